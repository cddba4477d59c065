"""Temporal stability without optical flow: how much a style network's output flickers when the camera moves a
little, measured on clips whose motion is known.

A clip is a window of FRAMES x SIZE x SIZE pixels panning across a held-out photo by PAN pixels a frame (not a
multiple of the network's total stride, 4, so the strided layers' aliasing shows), each frame with its own
sensor noise (gaussian, NOISE in [0, 1] units). Frame k+1 shows the scene of frame k moved PAN pixels left, so
undoing the motion is a crop: the two frames are compared where they show the same scene, away from a MARGIN
around the border (padding effects). The figure is the mean absolute difference there, averaged over
consecutive pairs, for the stylized frames and for the input frames; `ratio` divides the first by the second:
1 means the output changes no more than the input does, the best public pretrained networks measure 1.7 to 3.8.

A zoom clip (`motion="zoom"`) zooms into the photo's centre by ZOOM a frame instead; the motion is undone by
resampling frame k+1 back to frame k's scale (bilinear), the same for the input and the stylized clip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch
import torch.nn.functional as F

FRAMES, SIZE, PAN, NOISE, MARGIN = 8, 256, 3, 0.01, 16
ZOOM = 1.02  # the zoom clip's magnification from one frame to the next


@dataclass
class Stability:
    stylized: float  # mean aligned frame-to-frame difference of the stylized clip, in [0, 1] pixel units
    photo: float  # the same for the input clip (the noise alone, where the photo is still)
    ratio: float  # stylized / photo


def pan_clip(
    photo: torch.Tensor, frames: int = FRAMES, size: int = SIZE, pan: int = PAN, noise: float = NOISE, seed: int = 0
) -> torch.Tensor:
    """(1, 3, H, W) in [0, 1] -> (frames, 3, size, size): a window panning right by `pan` px a frame across the
    photo's centre (a photo too small for it is enlarged), each frame with its own gaussian noise of std `noise`."""
    need_w, need_h = size + pan * (frames - 1), size
    h, w = photo.shape[-2:]
    scale = max(need_w / w, need_h / h)
    if scale > 1:  # too small for the whole pan: enlarged just enough
        size_hw = (max(need_h, round(h * scale)), max(need_w, round(w * scale)))
        photo = F.interpolate(photo, size=size_hw, mode="bilinear", antialias=True, align_corners=False)
    h, w = photo.shape[-2:]
    top, left = (h - size) // 2, (w - need_w) // 2
    clip = torch.cat([photo[:, :, top : top + size, left + k * pan : left + k * pan + size] for k in range(frames)])
    gen = torch.Generator().manual_seed(seed)
    return (clip + noise * torch.randn(clip.shape, generator=gen)).clamp(0, 1)


def zoom_clip(
    photo: torch.Tensor, frames: int = FRAMES, size: int = SIZE, zoom: float = ZOOM, noise: float = NOISE, seed: int = 0
) -> torch.Tensor:
    """(1, 3, H, W) in [0, 1] -> (frames, 3, size, size): the photo's central square (at most 2 x size px of it)
    seen ever closer, zoom x a frame, each frame resampled to size px with its own gaussian noise."""
    side = min(*photo.shape[-2:], 2 * size)
    h, w = photo.shape[-2:]
    out = []
    for k in range(frames):
        crop = side / zoom**k
        theta = torch.tensor([[[crop / w, 0.0, 0.0], [0.0, crop / h, 0.0]]])  # the centred crop, in [-1, 1] units
        grid = F.affine_grid(theta, [1, 3, size, size], align_corners=False)
        out.append(F.grid_sample(photo, grid, mode="bilinear", align_corners=False))
    clip = torch.cat(out)
    gen = torch.Generator().manual_seed(seed)
    return (clip + noise * torch.randn(clip.shape, generator=gen)).clamp(0, 1)


def zoomed_difference(clip: torch.Tensor, zoom: float = ZOOM, margin: int = MARGIN) -> float:
    """Mean |frame k+1 - frame k| with frame k+1 resampled to frame k's scale, away from the border."""
    n, _, h, w = clip.shape
    # frame k+1 shows at u what frame k shows at u / zoom (from the centre): sample it at zoom x frame k's points
    theta = torch.tensor([[[zoom, 0.0, 0.0], [0.0, zoom, 0.0]]]).expand(n - 1, -1, -1)
    grid = F.affine_grid(theta, [n - 1, 3, h, w], align_corners=False)
    back = F.grid_sample(clip[1:], grid, mode="bilinear", align_corners=False)
    return (back - clip[:-1])[..., margin:-margin, margin:-margin].abs().mean().item()


def aligned_difference(clip: torch.Tensor, pan: int = PAN, margin: int = MARGIN) -> float:
    """Mean |frame k+1 - frame k| over the pixels both show, motion undone, away from the border."""
    a = clip[:-1, :, margin:-margin, pan + margin : -margin]  # frame k, its scene that frame k+1 still shows
    b = clip[1:, :, margin:-margin, margin : -margin - pan]  # frame k+1, the same scene pan px further left
    return (b - a).abs().mean().item()


def stability(
    stylize: Callable[[torch.Tensor], torch.Tensor],
    photos: list[torch.Tensor],
    frames: int = FRAMES,
    size: int = SIZE,
    pan: int = PAN,
    noise: float = NOISE,
    motion: str = "pan",
) -> Stability:
    """`stylize`: (N, 3, H, W) -> (N, 3, H, W) in [0, 1]; `photos`: (1, 3, H, W) each. One clip per photo, of
    `motion` "pan" (`pan` px a frame) or "zoom" (ZOOM a frame)."""
    if motion not in ("pan", "zoom"):
        raise ValueError(f"motion must be pan or zoom, got {motion!r}")
    if motion == "pan":
        make, difference = partial(pan_clip, pan=pan), partial(aligned_difference, pan=pan)
    else:
        make, difference = zoom_clip, zoomed_difference
    ours = inputs = 0.0
    for i, photo in enumerate(photos):
        clip = make(photo, frames, size, noise=noise, seed=i)
        with torch.no_grad():
            out = torch.cat([stylize(frame[None]).float().cpu() for frame in clip])  # frame by frame, as video goes
        ours += difference(out.clamp(0, 1))
        inputs += difference(clip)
    ours, inputs = ours / len(photos), inputs / len(photos)
    return Stability(ours, inputs, ours / inputs if inputs > 0 else float("inf"))
