#!/usr/bin/env python3
"""A before/after picture of flicker: for each model, consecutive stylized frames of a panning clip with the
motion undone (so a stable model shows the same picture four times), and beside them how much each frame
changed from the last (x4, white = change). With `-o NAME.gif` it writes the clip as a viewer sees it instead:
an animated GIF of the pan (--gif-frames frames, not undone), the input and each model side by side.

    python scripts/flicker_strip.py --photo ../shared/data/content/chicago.jpg --models starry_night \\
        outputs/stable/style.pt -o flicker.png
    python scripts/flicker_strip.py --photo photo.jpg --models starry_night --smooth 0 0.8 -o smoothing.png
    python scripts/flicker_strip.py --photo photo.jpg --models starry_night outputs/stable/style.pt -o pan.gif
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from PIL import Image, ImageDraw, ImageOps
from torchvision.transforms.functional import pil_to_tensor

from fast_style import zoo
from fast_style.atomic import atomic_write
from fast_style.cli import ToolParser, positive, run_tool
from fast_style.errors import UserError
from fast_style.evaluation.stability import PAN, pan_clip
from fast_style.inference.stylizer import Stylizer
from fast_style.media.images import open_rgb
from fast_style.media.pixels import tensor_to_pil, to_unit
from fast_style.media.smoothing import TemporalSmoother
from fast_style.options import check_smoothing
from fast_style.outputs import check_output

FRAMES, SIZE = 4, 192
# a GIF small enough to put in a page: 160 px panels, 12 frames a second, of the photo at most 256 px high
GIF_SIZE, GIF_FPS, GIF_PHOTO = 160, 12, 256


def aligned(clip: torch.Tensor) -> list[torch.Tensor]:
    """The part of the scene every frame shows, frame by frame (the pan undone)."""
    last = len(clip) - 1  # frame k starts k * PAN px further right in the scene
    return [frame[:, :, PAN * (last - k) : PAN * (last - k) + SIZE - PAN * last] for k, frame in enumerate(clip)]


def label(model: str) -> str:
    """A built-in style's name, a model file's stem, or a run's folder name for its style.pt."""
    return Path(model).parent.name if Path(model).stem == "style" else Path(model).stem


def stylized_clips(clip: torch.Tensor, models: list[str], smooth: list[float]) -> list[tuple[str, torch.Tensor]]:
    """The clip through each model, and with each --smooth value: (name, (frames, 3, H, W)), the input first."""
    clips = [("input", clip)]
    for model in models:
        stylizer = Stylizer.load(model, device="cpu")
        out = torch.cat([stylizer.stylize_tensor(frame[None]) for frame in clip])
        for s in smooth:
            smoother = TemporalSmoother(s)
            frames = torch.stack([smoother.step(x, y) for x, y in zip(clip, out)]) if s else out
            clips.append((label(model) + (f", --smooth {s:g}" if s else ""), frames))
    return clips


def write_gif(panels: list[tuple[str, torch.Tensor]], path: Path, force: bool) -> None:
    """panels: (name, (frames, 3, H, W) in [0, 1]) -> one animated GIF, the panels side by side, named above."""
    frames, _, h, w = panels[0][1].shape
    pictures = []
    for k in range(frames):
        sheet = Image.new("RGB", ((w + 4) * len(panels) - 4, h + 16), "white")
        draw = ImageDraw.Draw(sheet)
        for i, (name, clip) in enumerate(panels):
            draw.text((i * (w + 4) + 2, 2), name, fill="black")
            sheet.paste(tensor_to_pil(clip[k]), (i * (w + 4), 16))
        pictures.append(sheet)
    # one palette for all frames would band the painting's colours: each frame gets its own (Pillow's default)
    with atomic_write(path, overwrite=force) as tmp:
        pictures[0].save(tmp, "GIF", save_all=True, append_images=pictures[1:], duration=round(1000 / GIF_FPS), loop=0)


def main() -> None:
    sys.exit(run_tool(strip))


def strip() -> None:
    p = ToolParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--photo", type=Path, required=True)
    p.add_argument("--models", nargs="+", required=True, help="built-in styles or model files, one row each")
    p.add_argument("--smooth", type=float, nargs="+", default=[0.0], help="--smooth values, a row each per model")
    p.add_argument("-o", "--output", type=Path, required=True, help="a .png picture, or a .gif animation")
    p.add_argument("--gif-frames", type=positive(int), default=36, help="frames of the GIF (default 36: 3 s)")
    p.add_argument("--force", action="store_true", help="replace an existing --output")
    args = p.parse_args()
    # every mistake before the models run (an unknown -o format, a model or --smooth failed after the work)
    fmt = Image.registered_extensions().get(args.output.suffix.lower())
    if fmt not in Image.SAVE:
        p.error(f"-o {args.output}: give a .png picture or a .gif animation")
    if not args.photo.is_file():
        raise UserError(f"--photo {args.photo} is not a file: give a photo")
    for model in args.models:
        zoo.resolve(model)
    for s in args.smooth:
        check_smoothing(s)
    check_output(args.output, args.force, {args.photo.resolve()})  # (an existing picture was replaced unasked)
    img = open_rgb(args.photo)
    if fmt == "GIF":
        img = ImageOps.contain(img, (4 * GIF_PHOTO, GIF_PHOTO), Image.Resampling.LANCZOS)
    photo = to_unit(pil_to_tensor(img))[None]
    if fmt == "GIF":
        clips = stylized_clips(pan_clip(photo, args.gif_frames, GIF_SIZE), args.models, args.smooth)
        write_gif(clips, args.output, args.force)
        print(f"wrote {args.output} ({args.output.stat().st_size / 1e6:.1f} MB)")
        return
    rows = [
        (name, aligned(frames))
        for name, frames in stylized_clips(pan_clip(photo, FRAMES, SIZE), args.models, args.smooth)
    ]
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
    with atomic_write(args.output, overwrite=args.force) as tmp:
        sheet.save(tmp, fmt)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
