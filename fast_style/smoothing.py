"""Temporal smoothing at inference, for style models trained without stability (`fast-style-stylize --smooth`).

Each stylized frame is blended with the previous smoothed frame, by `strength`, where the input picture is still:
a pixel's weight falls off with how much the input changed there since the last frame (averaged over a 5x5
neighbourhood, so sensor noise counts as still and a moving edge does not), so moving objects are not dragged
behind (ghosting) while the texture on still parts stops swimming. It cannot tell a camera pan over a flat
region from a still one: there the texture of successive positions is averaged and blurs (README.md).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fast_style.errors import UserError

STILL = 0.04  # a mean input change (in [0, 1] units) at which a pixel counts as moving (weight e^-1 of strength)


class TemporalSmoother:
    """Feed frames in order: `smoother.step(frame, stylized)` returns the smoothed stylized frame."""

    def __init__(self, strength: float, still: float = STILL) -> None:
        if isinstance(strength, bool) or not 0.0 <= strength < 1.0:
            raise UserError(f"--smooth must be within 0..1 (1 excluded), got {strength}")
        self.strength, self.still = float(strength), still
        self._frame: torch.Tensor | None = None  # the last input frame, at the output's size
        self._out: torch.Tensor | None = None  # the last smoothed output

    def step(self, frame: torch.Tensor, stylized: torch.Tensor) -> torch.Tensor:
        """frame, stylized: (3, H, W) float in [0, 1] (the frame at the output's size) -> smoothed (3, H, W)."""
        if self._out is None or self._out.shape != stylized.shape or self.strength == 0:
            out = stylized
        else:
            change = (frame - self._frame).abs().mean(0, keepdim=True)  # (1, H, W)
            change = F.avg_pool2d(change[None], 5, stride=1, padding=2, count_include_pad=False)[0]
            weight = self.strength * torch.exp(-((change / self.still) ** 2))  # (1, H, W): 0 where it moved
            out = torch.lerp(stylized, self._out, weight)
        self._frame, self._out = frame, out
        return out
