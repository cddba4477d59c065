#!/usr/bin/env python3
"""Coverage (fast_style/perceptual/coverage.py) on pictures whose answer is known: each built-in style's output, the
photo with saturated discs pasted on it (the blob failure), the photo tinted halfway to the painting's mean colour,
the photo blurred, and the photo itself.

    python scripts/coverage_calibration.py --coco ../shared/data/coco --style-dir ../shared/data/styles

Photos: the first 12 of the zoo's held-out COCO photos (scripts/zoo_report.py's split), at 256 px.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

from fast_style import zoo
from fast_style.cli import ToolParser, positive, run_tool
from fast_style.errors import UserError
from fast_style.evaluation.photos import load_photos
from fast_style.model.style_model import load_style_model
from fast_style.perceptual.loss import PerceptualLoss
from fast_style.perceptual.style_image import load_style_image

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/: the zoo's held-out split
from zoo_report import held_out_coco  # noqa: E402

COLOURS = ((1.0, 0.0, 0.0), (1.0, 1.0, 0.0), (0.0, 1.0, 1.0), (0.0, 0.0, 0.0))


def discs(photo: torch.Tensor, count: int = 6, radius: int = 14) -> torch.Tensor:
    """The photo with `count` saturated discs at fixed random places."""
    out = photo.clone()
    h, w = photo.shape[-2:]
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    g = torch.Generator().manual_seed(1)
    for i in range(count):
        cy = int(torch.randint(radius, h - radius, (1,), generator=g))
        cx = int(torch.randint(radius, w - radius, (1,), generator=g))
        inside = (yy - cy) ** 2 + (xx - cx) ** 2 < radius**2
        out[0][:, inside] = torch.tensor(COLOURS[i % len(COLOURS)]).view(3, 1)
    return out


def main() -> None:
    sys.exit(run_tool(calibrate))


def calibrate() -> None:
    p = ToolParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--coco", required=True, help="the COCO folder the zoo was trained from")
    p.add_argument("--style-dir", required=True, help="the folder holding the paintings (wave.jpg, ...)")
    p.add_argument("--styles", nargs="*", default=["wave", "starry_night", "udnie"], help="built-in styles")
    p.add_argument("--count", type=positive(int), default=12, help="photos (default 12)")
    args = p.parse_args()
    if unknown := [n for n in args.styles if n not in zoo.names()]:
        raise UserError(f"unknown style {unknown[0]!r}: --styles takes built-in styles, {', '.join(zoo.names())}")
    # a fast variant's painting is its style's (wave-fast: wave.jpg); all found before the work
    paintings = {n: Path(args.style_dir) / f"{zoo.manifest(n).get('fast_variant_of', n)}.jpg" for n in args.styles}
    if missing := [str(f) for f in paintings.values() if not f.is_file()]:
        raise UserError(f"no painting {missing[0]}: give --style-dir, the folder holding the paintings (wave.jpg...)")
    with tempfile.TemporaryDirectory() as tmp:
        photos = [x for _, x in load_photos([str(held_out_coco(args.coco, Path(tmp)))], 256)][: args.count]
    print("| picture | " + " | ".join(args.styles) + " |")
    print("| --- |" + " --- |" * len(args.styles))
    rows: dict[str, list[float]] = {}
    for name in args.styles:
        loss = PerceptualLoss(weights="caffe")
        painting = load_style_image(str(paintings[name]), 512)
        loss.set_style(painting)
        net, _ = load_style_model(str(zoo.resolve(name)))
        mean = painting.mean((2, 3), keepdim=True)
        pictures = {
            "the zoo model's output": net,
            "the photo with six saturated discs": discs,
            "the photo tinted halfway to the painting's mean colour": lambda x, m=mean: x.lerp(m, 0.5),
            "the photo blurred (5x5 box)": lambda x: F.avg_pool2d(x, 5, 1, 2, count_include_pad=False),
            "the photo itself": lambda x: x,
        }
        with torch.no_grad():
            for label, make in pictures.items():
                covered = torch.cat([loss.coverage(make(x), x) for x in photos])
                rows.setdefault(label, []).append(covered.mean().item())
    for label, values in rows.items():
        print(f"| {label} | " + " | ".join(f"{v:.2f}" for v in values) + " |")


if __name__ == "__main__":
    main()
