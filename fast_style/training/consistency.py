"""Training for temporal stability: the output of a slightly moved copy of a photo must be the output of the
photo, moved the same way (the config group `temporal`; measured by fast_style.evaluation.stability).

Each training step also stylizes a copy of the batch shifted by a few pixels (`max_shift`, so not a multiple of
the network's stride of 4 most of the time: the aliasing that makes texture swim), optionally with its own gaussian
noise (`noise`, std in [0, 1] units, like a camera's), and penalises the mean squared difference between that output
and the batch's output shifted alike, away from a border of `margin` pixels. In the spirit of Ruder et al.'s
training on shifted still images and of noise-resilient training; no optical flow is needed because the motion
is known. With `max_zoom` > 0 the copy is also zoomed about its centre by a factor drawn log-uniformly within
1 +- max_zoom (a camera moving forward or back): the copy and the batch's output are then resampled bilinearly
(Ruder et al. trained on zoomed stills too), and the border left out grows with the zoom. At a short CPU budget
it changed neither flicker figure (the shift alone already trains against the sub-pixel motion a zoom makes),
so it is off by default (benchmarks/README.md).
With `share` < 1 only the first share of each batch (at least one photo) gets a moved copy: the network then
runs on fewer extra photos, the term's main cost on a CPU (a quarter: 0.80x the plain step's speed instead of
0.50x, for somewhat less stability: 0.46x-0.55x the flicker instead of 0.36x-0.44x).
With `start` > 0 the first `start` steps train without the term (and without its extra network pass): the
network learns to paint first and to hold its strokes still after, as fine-tuning a plain model does (from half
of a 400-step CPU run: 0.48x-0.53x the flicker for -3% to +17% style loss, against 0.36x-0.44x for +6% to +21% with
the term from the start; benchmarks/README.md, "`temporal.start`").
`noise` defaults to 0: with the camera-like noise (std 0.01) the flicker fell no further (the measured clips
carry such noise), but smooth regions such as skies stayed plainer (coverage 0.82 against 0.86 on wave, 0.79
against 0.83 on the_scream; benchmarks/README.md, "`temporal.noise` and `temporal.share`").
The term is `weight` x the mean squared difference in 0-255 units (the perceptual loss's scale).
The default weight, 1000, is the one measured best with the caffe VGG's default loss weights: flicker 0.40x to
0.59x of the same recipe without it on five of the six zoo paintings, at most 10% more held-out style loss (3000
gave up too much; benchmarks/README.md, "Training for stability"). With torchvision-scale VGG weights the
perceptual terms are larger, so this weight steadies less (raise it there; not measured). To steady a model
that has already converged without the term (`module.init_from`), a lower weight trades better: 300 for 600
steps gave 0.57x (starry_night) and 0.66x (wave) the flicker for +6% and +4% style loss, where 1000 had cost
+18% to +54%; 600 more at lr 2e-4 (from 3e-4) took starry_night, wave and shipwreck to 0.53x-0.63x for +2% to
+5% (benchmarks/README.md, "Steadier zoo models", "The last two steadied").
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from fast_style.errors import UserError
from fast_style.numbers import check_number


class ConsistencyLoss(nn.Module):
    def __init__(
        self,
        weight: float = 1000.0,
        max_shift: int = 3,
        noise: float = 0.0,
        margin: int = 8,
        max_zoom: float = 0.0,
        share: float = 1.0,
        start: int = 0,
    ) -> None:
        super().__init__()
        weight = check_number("temporal.weight", weight, lambda v: 0 <= v < math.inf, "a finite number >= 0")
        max_shift = check_number("temporal.max_shift", max_shift, lambda v: v >= 1, "a whole number >= 1", integer=True)
        noise = check_number("temporal.noise", noise, lambda v: 0 <= v < math.inf, "a finite number >= 0")
        margin = check_number("temporal.margin", margin, lambda v: v >= 0, "a whole number >= 0", integer=True)
        max_zoom = check_number("temporal.max_zoom", max_zoom, lambda v: 0 <= v <= 0.25, "a number within 0..0.25")
        share = check_number("temporal.share", share, lambda v: 0 < v <= 1, "a number within 0..1 (not 0)")
        start = check_number(
            "temporal.start", start, lambda v: v >= 0, "a whole number >= 0 (a training step)", integer=True
        )
        self.weight, self.max_shift, self.noise, self.margin = float(weight), max_shift, float(noise), margin
        self.max_zoom, self.share, self.start = float(max_zoom), float(share), start
        # its own random streams (the motion's on the CPU, the noise's on the images' device), seeded from torch's
        # seed at the first draw and kept in checkpoints (rng_state): a resumed run moves its copies as an
        # uninterrupted one does (torch's own stream started again from the seed)
        self._draws: torch.Generator | None = None
        self._noise: torch.Generator | None = None
        self._resumed_noise: torch.Tensor | None = None

    def _motion_stream(self) -> torch.Generator:
        if self._draws is None:
            self._draws = torch.Generator().manual_seed(torch.initial_seed())
        return self._draws

    def _noise_stream(self, device: torch.device) -> torch.Generator:
        if self._noise is None or self._noise.device != device:
            self._noise = torch.Generator(device).manual_seed(torch.initial_seed() + 1)
            if self._resumed_noise is not None:  # a checkpoint's, restored where the images' device is known
                self._noise.set_state(self._resumed_noise)
                self._resumed_noise = None
        return self._noise

    def rng_state(self) -> dict[str, torch.Tensor]:
        """The random streams' states, for a checkpoint (those not drawn from yet are left out)."""
        streams = {"motion": self._draws, "noise": self._noise}
        return {name: g.get_state() for name, g in streams.items() if g is not None}

    def load_rng_state(self, state: dict[str, torch.Tensor]) -> None:
        if "motion" in state:
            self._motion_stream().set_state(state["motion"])
        self._noise, self._resumed_noise = None, state.get("noise")

    def active(self, step: int) -> bool:
        """Whether the term applies at this training step (from `start` on; never at weight 0, whose moved copies
        had taken a second pass of the network each step for a term of 0)."""
        return self.weight > 0 and step >= self.start

    def count(self, batch: int) -> int:
        """How many of a batch's photos get a moved copy: the first `share` of them, at least one."""
        return max(1, math.ceil(self.share * batch - 1e-9))

    def shift(self) -> tuple[int, int]:
        """A random (dy, dx), each in [-max_shift, max_shift], not both 0 (drawn on the CPU: no device sync)."""
        while True:
            dy, dx = torch.randint(-self.max_shift, self.max_shift + 1, (2,), generator=self._motion_stream()).tolist()
            if dy or dx:
                return dy, dx

    def motion(self) -> tuple[int, int, float]:
        """A random (dy, dx, zoom): `shift()`, and a zoom factor log-uniform within 1 +- max_zoom (1.0 without)."""
        dy, dx = self.shift()
        if not self.max_zoom:
            return dy, dx, 1.0
        u = torch.rand((), generator=self._motion_stream()).item()
        return dy, dx, math.exp(math.log1p(self.max_zoom) * (2 * u - 1))

    def _border(self, h: int, w: int, zoom: float) -> int:
        """Pixels left out at each side: the shift, the margin and what a zoom out brings into view."""
        return self.max_shift + self.margin + math.ceil(max(h, w) / 2 * abs(1 - 1 / zoom))

    @staticmethod
    def _warp(images: torch.Tensor, dy: int, dx: int, zoom: float) -> torch.Tensor:
        """out[p] = images[c + (p - c) / zoom + d], c the centre, bilinear (mirrored beyond the border)."""
        b, _, h, w = images.shape
        theta = images.new_tensor([[1 / zoom, 0.0, 2 * dx / w], [0.0, 1 / zoom, 2 * dy / h]]).expand(b, 2, 3)
        grid = F.affine_grid(theta, list(images.shape), align_corners=False)
        return F.grid_sample(images, grid, mode="bilinear", padding_mode="reflection", align_corners=False)

    def check_crops(self, h: int, w: int) -> None:
        """UserError where training crops of h x w px leave no room for the motion: checked before training (it
        had said so at `start`'s step, hours in) and at every step, for the widest zoom out max_zoom allows (a size
        that passed a run's first steps had failed a later step's random zoom). Not at weight 0, where no copy is
        moved (`active`): a crop too small for the motion had been refused for a pass that never runs."""
        if not self.weight:
            return
        s, widest = self.max_shift, 1 / (1 + self.max_zoom)
        if min(h, w) <= s + 2 * self._border(h, w, widest):
            least = next(n for n in range(16, 1 << 16) if n > s + 2 * self._border(n, n, widest))
            raise UserError(
                f"training crops of {h}x{w} px are too small for temporal.max_shift={s}, margin={self.margin} "
                f"and max_zoom={self.max_zoom}: give data.image_size={least} or more, or lower those"
            )

    def never_starts(self, max_steps: object) -> str | None:
        """The warning for a run of `max_steps` (trainer.max_steps) that ends before the term's `start`: it trains
        without it, its model no steadier on video (said, not silently); None where it starts. As well at weight 0."""
        if not self.weight:
            return (
                "temporal.weight=0 trains nothing: the run trains as with temporal=none, no steadier on video; give "
                "temporal.weight (1000 by default), or leave temporal out"
            )
        if not (self.start and isinstance(max_steps, int) and 0 < max_steps <= self.start):
            return None
        return (
            f"temporal.start={self.start} is not before trainer.max_steps={max_steps}: the run trains "
            "without the temporal term, no steadier on video; lower temporal.start"
        )

    def moved(self, images: torch.Tensor, dy: int, dx: int, zoom: float = 1.0) -> torch.Tensor:
        """(B, 3, H, W) -> the same size, showing the scene moved so that moved[p] = images[p + (dy, dx)] (the
        border that comes into view mirrored), zoomed by `zoom` about the centre (resampled), with fresh noise."""
        s = self.max_shift
        h, w = images.shape[-2:]
        self.check_crops(h, w)
        if zoom != 1.0:
            out = self._warp(images, dy, dx, zoom)
        else:  # a whole-pixel shift: exact, no resampling
            padded = F.pad(images, (s, s, s, s), mode="reflect")
            out = padded[..., s + dy : s + dy + h, s + dx : s + dx + w]
        if self.noise:
            noise = torch.randn(out.shape, generator=self._noise_stream(out.device), device=out.device)
            out = (out + self.noise * noise.to(out.dtype)).clamp(0, 1)
        return out

    def forward(
        self, stylized: torch.Tensor, stylized_moved: torch.Tensor, dy: int, dx: int, zoom: float = 1.0
    ) -> torch.Tensor:
        """stylized: the network's output for the batch; stylized_moved: for `moved(batch, dy, dx, zoom)`. Both
        (B, 3, H, W) in [0, 1]. Returns weight x mean squared difference (0-255 units) where both show the same
        scene, away from the border."""
        h, w = stylized.shape[-2:]
        m = self._border(h, w, zoom)
        ours = stylized_moved[..., m : h - m, m : w - m]
        if zoom != 1.0:  # the batch's output moved alike (resampled)
            theirs = self._warp(stylized.float(), dy, dx, zoom)[..., m : h - m, m : w - m]
        else:
            theirs = stylized[..., m + dy : h - m + dy, m + dx : w - m + dx]  # stylized[p + d]
        return self.weight * F.mse_loss(ours.float() * 255, theirs.float() * 255)
