#!/usr/bin/env python3
"""Temporal smoothing at inference (`fast-style-stylize --smooth S`): flicker gained against ghosting paid.

For each model and strength S, on clips made from the photos given (fast_style.evaluation.stability's definitions):
- flicker, pan: the aligned frame-to-frame difference of a window panning 3 px a frame, over the input's;
- flicker, still: the same for a still camera (noise only), where smoothing should help most;
- ghosting: a patch of another photo moving 6 px a frame over a still photo; the mean |smoothed - unsmoothed|
  on the pixels whose input changed (the moving patch and the background it uncovers), in 0-255 units:
  0 means moving things are drawn as without smoothing;
- ghosting, flat: the same for a flat, light disc (radius 40 px) moving 6 px a frame over a still photo, on the
  disc: its inside barely changes, so a gate on the input's change alone takes it for still;
- sharpness, pan: the smoothed pan's mean gradient magnitude over the unsmoothed pan's, on its last half (1: as
  sharp; a smoother that averages the texture of a pan's successive positions blurs it below 1);
- flicker and sharpness, zoom: the same on a clip zooming 2% a frame into the photo's centre
  (fast_style.evaluation.stability.zoom_clip), its motion undone by resampling;
- flicker and sharpness, roll: the same on a clip turning ROLL degrees a frame about the photo's centre.

    python scripts/benchmark_smoothing.py --photos ../shared/data/content --models wave starry_night
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torchvision.transforms.functional import pil_to_tensor

from fast_style import zoo
from fast_style.cli import ToolParser, positive, run_tool
from fast_style.errors import UserError
from fast_style.evaluation.stability import aligned_difference, pan_clip, zoom_clip, zoomed_difference
from fast_style.inference.stylizer import Stylizer
from fast_style.media.bomb_guard import BOMB, over_the_bomb_limit
from fast_style.media.images import open_rgb, unreadable_because
from fast_style.media.pixels import to_unit
from fast_style.media.smoothing import TemporalSmoother
from fast_style.model.style_model import load_style_model
from fast_style.options import check_smoothing

FRAMES, SIZE, STEP, PATCH = 8, 256, 6, 64
ROLL = 1.5  # degrees a frame


def sprite_clip(background: torch.Tensor, sprite: torch.Tensor, seed: int) -> torch.Tensor:
    """(FRAMES, 3, SIZE, SIZE): a still window of `background` with a PATCH-px square of `sprite` moving right."""
    still = pan_clip(background, FRAMES, SIZE, pan=0, noise=0.0)
    patch = pan_clip(sprite, 1, PATCH, pan=0, noise=0.0)[0]
    gen = torch.Generator().manual_seed(seed)
    frames = []
    for k in range(FRAMES):
        frame = still[k].clone()
        x = 20 + STEP * k
        frame[:, 96 : 96 + PATCH, x : x + PATCH] = patch
        frames.append((frame + 0.01 * torch.randn(frame.shape, generator=gen)).clamp(0, 1))
    return torch.stack(frames)


def disc_clip(background: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(FRAMES, 3, SIZE, SIZE) frames of a still window of `background` with a flat disc moving right, and
    (FRAMES, SIZE, SIZE) where the disc is."""
    still = pan_clip(background, FRAMES, SIZE, pan=0, noise=0.0)
    y, x = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    gen = torch.Generator().manual_seed(seed)
    frames, discs = [], []
    for k in range(FRAMES):
        disc = (y - SIZE // 2) ** 2 + (x - 60 - STEP * k) ** 2 < 40**2
        frame = still[k].clone()
        frame[:, disc] = torch.tensor([0.95, 0.9, 0.85])[:, None]
        frames.append((frame + 0.01 * torch.randn(frame.shape, generator=gen)).clamp(0, 1))
        discs.append(disc)
    return torch.stack(frames), torch.stack(discs)


def _turned(x: torch.Tensor, degrees: torch.Tensor, size: int, side: float) -> torch.Tensor:
    """x (N, 3, S, S) sampled at its centre's `side` share, each turned by its `degrees` (N,), at size px."""
    a = torch.deg2rad(degrees)
    theta = torch.stack(
        [torch.stack([a.cos(), -a.sin(), 0 * a], -1), torch.stack([a.sin(), a.cos(), 0 * a], -1)], 1
    )  # (N, 2, 3)
    grid = F.affine_grid(theta * side, [len(x), 3, size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", align_corners=False)


def roll_clip(photo: torch.Tensor, seed: int) -> torch.Tensor:
    """(FRAMES, 3, SIZE, SIZE): the photo's central square (half of it seen) turning ROLL degrees a frame."""
    h, w = photo.shape[-2:]
    side = min(h, w)
    square = photo[..., (h - side) // 2 : (h - side) // 2 + side, (w - side) // 2 : (w - side) // 2 + side]
    clip = _turned(square.expand(FRAMES, -1, -1, -1), ROLL * torch.arange(FRAMES, dtype=torch.float32), SIZE, 0.5)
    gen = torch.Generator().manual_seed(seed)
    return (clip + 0.01 * torch.randn(clip.shape, generator=gen)).clamp(0, 1)


def rolled_difference(clip: torch.Tensor, margin: int = 40) -> float:
    """Mean |frame k+1 - frame k| with frame k+1 turned back onto frame k, inside a circle clear of the corners."""
    n = len(clip)
    back = _turned(clip[1:], torch.full((n - 1,), -ROLL), clip.shape[-1], 1.0)
    y, x = torch.meshgrid(torch.arange(SIZE) - SIZE / 2, torch.arange(SIZE) - SIZE / 2, indexing="ij")
    inside = (y**2 + x**2) < (SIZE / 2 - margin) ** 2
    return (back - clip[:-1]).abs().mean(1)[:, inside].mean().item()


def gradient(frames: torch.Tensor) -> float:
    """Mean absolute horizontal and vertical difference of neighbouring pixels: how sharp the frames are."""
    return (
        (frames[..., 1:, :] - frames[..., :-1, :]).abs().mean() + (frames[..., 1:] - frames[..., :-1]).abs().mean()
    ).item()


def smoothed(clip: torch.Tensor, out: torch.Tensor, strength: float) -> torch.Tensor:
    smoother = TemporalSmoother(strength)
    return torch.stack([smoother.step(x, y) for x, y in zip(clip, out)])


def main() -> None:
    sys.exit(run_tool(benchmark))


def benchmark() -> None:
    p = ToolParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--photos",
        type=Path,
        required=True,
        help="a folder of .jpg/.png photos, at least --clips + 1 (a clip's moving patch is the next photo's)",
    )
    p.add_argument("--models", nargs="+", default=["wave"], help="built-in styles or model files")
    p.add_argument("--strengths", type=float, nargs="+", default=[0.0, 0.5, 0.8, 0.9])
    p.add_argument("--clips", type=positive(int), default=4, help="clips, each from its own photo (default 4)")
    args = p.parse_args()
    for model in args.models:  # before the first model's work, not after it (read: a file that is none too)
        load_style_model(str(zoo.resolve(model)))
    for s in args.strengths:
        check_smoothing(s, "--strengths")
    if not args.photos.is_dir():
        raise UserError(f"--photos {args.photos} is not a folder")
    files = sorted(f for f in args.photos.iterdir() if f.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if len(files) < args.clips + 1:  # (an IndexError after the first model's work)
        raise UserError(
            f"--photos {args.photos} holds {len(files)} .jpg/.png photos: --clips {args.clips} needs "
            f"{args.clips + 1} (or give fewer --clips)"
        )
    photos = []
    for f in files[: args.clips + 1]:  # (one unreadable was PIL's traceback)
        try:
            photos.append(to_unit(pil_to_tensor(open_rgb(f)))[None])
        except (OSError, ValueError, *BOMB) as e:
            why = (
                over_the_bomb_limit() if isinstance(e, BOMB) else f"{unreadable_because(f, e)}: move it out of --photos"
            )
            raise UserError(f"cannot read {f}: {why}") from None
    print(
        "model           S   flicker pan   flicker still   ghosting (0-255)   ghosting flat   sharpness pan"
        "   flicker zoom   sharpness zoom   flicker roll   sharpness roll"
    )
    for model in args.models:
        stylizer = Stylizer.load(model, device="cpu")

        def run(clip: torch.Tensor, stylizer: Stylizer = stylizer) -> torch.Tensor:
            return torch.cat([stylizer.stylize_tensor(frame[None]) for frame in clip])

        clips = []
        for i in range(args.clips):
            pan, still = pan_clip(photos[i], seed=i), pan_clip(photos[i], pan=0, seed=i)
            sprite = sprite_clip(photos[i], photos[i + 1], seed=i)
            disc, where = disc_clip(photos[i], seed=i)
            zoom, roll = zoom_clip(photos[i], seed=i), roll_clip(photos[i], seed=i)
            clips.append([(c, run(c)) for c in (pan, still, sprite, disc, zoom, roll)] + [where])
        for s in args.strengths:
            pan = still = ghost = flat = sharp = zoom = zoom_sharp = roll = roll_sharp = 0.0
            for (pc, po), (sc, so), (gc, go), (dc, do), (zc, zo), (rc, ro), where in clips:
                calm = smoothed(zc, zo, s)
                zoom += zoomed_difference(calm) / zoomed_difference(zc)
                zoom_sharp += gradient(calm[FRAMES // 2 :]) / gradient(zo[FRAMES // 2 :])
                calm = smoothed(rc, ro, s)
                roll += rolled_difference(calm) / rolled_difference(rc)
                roll_sharp += gradient(calm[FRAMES // 2 :]) / gradient(ro[FRAMES // 2 :])
                calm = smoothed(pc, po, s)
                pan += aligned_difference(calm) / aligned_difference(pc)
                sharp += gradient(calm[FRAMES // 2 :]) / gradient(po[FRAMES // 2 :])
                still += aligned_difference(smoothed(sc, so, s), pan=0) / aligned_difference(sc, pan=0)
                moving = (gc[1:] - gc[:-1]).abs().mean(1, keepdim=True) > 0.1  # (FRAMES-1, 1, H, W)
                diff = (smoothed(gc, go, s)[1:] - go[1:]).abs().mean(1, keepdim=True)
                ghost += (diff[moving].mean() * 255).item()
                diff = (smoothed(dc, do, s)[1:] - do[1:]).abs().mean(1)  # (FRAMES-1, H, W)
                flat += (diff[where[1:]].mean() * 255).item()
            n = len(clips)
            print(
                f"{Path(str(model)).stem:14} {s:3.1f}   {pan / n:11.2f}   {still / n:13.2f}   {ghost / n:16.2f}"
                f"   {flat / n:13.2f}   {sharp / n:13.2f}   {zoom / n:12.2f}   {zoom_sharp / n:14.2f}"
                f"   {roll / n:12.2f}   {roll_sharp / n:14.2f}"
            )


if __name__ == "__main__":
    main()
