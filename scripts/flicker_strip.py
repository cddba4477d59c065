#!/usr/bin/env python3
"""A before/after picture of flicker: for each model, consecutive stylized frames of a panning clip with the
motion undone (so a stable model shows the same picture four times), and beside them how much each frame
changed from the last (x4, white = change).

    python scripts/flicker_strip.py --photo ../shared/data/content/chicago.jpg --models starry_night \\
        outputs/stable/style.pt -o flicker.png
    python scripts/flicker_strip.py --photo photo.jpg --models starry_night --smooth 0 0.8 -o smoothing.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from PIL import Image, ImageDraw
from torchvision.transforms.functional import pil_to_tensor

from fast_style.images import open_rgb, tensor_to_pil, to_unit
from fast_style.smoothing import TemporalSmoother
from fast_style.stability import PAN, pan_clip
from fast_style.stylizer import Stylizer

FRAMES, SIZE = 4, 192


def aligned(clip: torch.Tensor) -> list[torch.Tensor]:
    """The part of the scene every frame shows, frame by frame (the pan undone)."""
    last = len(clip) - 1  # frame k starts k * PAN px further right in the scene
    return [frame[:, :, PAN * (last - k) : PAN * (last - k) + SIZE - PAN * last] for k, frame in enumerate(clip)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--photo", type=Path, required=True)
    p.add_argument("--models", nargs="+", required=True, help="built-in styles or model files, one row each")
    p.add_argument("--smooth", type=float, nargs="+", default=[0.0], help="--smooth values, a row each per model")
    p.add_argument("-o", "--output", type=Path, required=True)
    args = p.parse_args()
    photo = to_unit(pil_to_tensor(open_rgb(args.photo)))[None]
    clip = pan_clip(photo, FRAMES, SIZE)
    rows: list[tuple[str, list[torch.Tensor]]] = [("input", aligned(clip))]
    for model in args.models:
        stylizer = Stylizer.load(model, device="cpu")
        out = torch.cat([stylizer.stylize_tensor(frame[None]) for frame in clip])
        for s in args.smooth:
            smoother = TemporalSmoother(s)
            frames = torch.stack([smoother.step(x, y) for x, y in zip(clip, out)]) if s else out
            name = Path(model).parent.name if Path(model).stem == "style" else Path(model).stem  # a run's folder
            rows.append((name + (f", --smooth {s:g}" if s else ""), aligned(frames)))
    w = rows[0][1][0].shape[-1]
    cell = 4
    sheet = Image.new("RGB", ((w + cell) * (2 * FRAMES - 1), (SIZE + 20) * len(rows)), "white")
    draw = ImageDraw.Draw(sheet)
    for r, (name, frames) in enumerate(rows):
        y = r * (SIZE + 20)
        change = sum((b - a).abs().mean().item() for a, b in zip(frames, frames[1:])) / (FRAMES - 1)
        draw.text((2, y + 2), f"{name}: mean change {change * 255:.1f} grey levels a frame", fill="black")
        for k, frame in enumerate(frames):
            sheet.paste(tensor_to_pil(frame), (k * (w + cell), y + 18))
        for k in range(1, FRAMES):
            diff = ((frames[k] - frames[k - 1]).abs() * 4).clamp(0, 1).mean(0, keepdim=True).expand(3, -1, -1)
            sheet.paste(tensor_to_pil(diff), ((FRAMES + k - 1) * (w + cell), y + 18))
    sheet.save(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
