"""`fast-style-optimize`: the per-image algorithm of Gatys et al. 2016.

Optimizes the pixels of one image against the same perceptual losses the networks are trained with
(L-BFGS or Adam, from the content photo or from noise). It is the slow, highest-quality mode for a single
image, and the reference a feed-forward network approximates (`fast-style-eval --reference optimize:N`).
"""

from __future__ import annotations

import argparse
import math
import os
import shlex
import sys
from pathlib import Path

from fast_style.cli import ToolParser, add_device, add_pixel_limit, finished, run_reading_pictures
from fast_style.errors import UserError, first_of
from fast_style.numbers import check_number
from fast_style.outputs import check_writable

# the library (torch) is imported in run(): --help and a mistyped argument answer without loading it


def main(argv: list[str] | None = None) -> int:
    p = ToolParser(prog="fast-style-optimize", description=__doc__.splitlines()[0])
    p.add_argument("content", help="the photo")
    p.add_argument("more", nargs="*", default=[], help=argparse.SUPPRESS)  # a shell's photos/*.jpg: said below
    p.add_argument("-s", "--style", required=True, help="the style image")
    p.add_argument(
        "-o",
        "--output",
        help="output image, or a folder for it (default ./<photo>_<style>.png); its loss curve goes beside it "
        "(<stem>_loss.csv, <stem>_tensorboard/)",
    )
    p.add_argument("--iterations", type=int, default=300, help="optimizer steps (default 300)")
    p.add_argument("--method", choices=["lbfgs", "adam"], default="lbfgs", help="the optimizer (default lbfgs)")
    p.add_argument(
        "--init", choices=["content", "noise"], default="content", help="the starting picture (default content)"
    )
    p.add_argument("--lr", type=float, help="step size (default: 1 for L-BFGS, 0.05 for Adam)")
    p.add_argument(
        "--size",
        type=int,
        default=512,
        help="longer side of the content image in px, at most (default 512; a smaller photo keeps its size)",
    )
    p.add_argument("--style-size", type=int, default=512, help="longer side of the style image in px (default 512)")
    p.add_argument("--weights", default="caffe", help="VGG weights: caffe, torchvision or a file (default caffe)")
    p.add_argument("--content-weight", type=float, help="default: the training default for --weights")
    p.add_argument("--style-weight", type=float, help="default: the training default for --weights")
    p.add_argument("--tv-weight", type=float, help="default: the training default for --weights")
    add_device(p)
    p.add_argument("--force", action="store_true", help="overwrite an existing output")
    add_pixel_limit(p)
    args = p.parse_args(argv)
    if args.more:  # (it said "unrecognized arguments: photos/b.jpg")
        p.error(
            f"one photo at a time: {first_of(args.more)} after {args.content}: run it once per photo "
            "(fast-style-stylize takes many, with a trained style)"
        )
    return run_reading_pictures(args, lambda: run(args))


def run(args: argparse.Namespace) -> None:
    from fast_style.devices import pick_device
    from fast_style.file_kinds import IMAGE_OUTPUTS
    from fast_style.media.images import read_image, reading
    from fast_style.perceptual.loss import PerceptualLoss
    from fast_style.perceptual.optimize import (
        check_iterations,
        check_lr,
        check_result,
        optimize_image,
        read_alpha,
        read_content,
        write_result,
    )
    from fast_style.perceptual.style_image import load_style_image

    if args.output is not None and not args.output.strip():  # an unset shell variable: "'.' is a folder"
        raise UserError("--output is empty: give a file name, e.g. result.png")
    # without -o, or a folder: named after the photo and the painting, as stylize and export name theirs
    named = f"{Path(args.content).stem}_{Path(args.style).stem}.png"
    # '~/out.png' (quoted) expanded here, before the checks, as write_result expands it: they looked at ./~/out.png, so
    # an existing ~/out.png was refused only after every iteration, and the photo itself written over with --force
    out = Path(args.output or named).expanduser()
    if out.is_dir() or (args.output or "").endswith(("/", os.sep)):  # -o results/: a folder, made if it is not there
        out = out / named
    if out.name.lower() in IMAGE_OUTPUTS:  # -o .png: no suffix to pathlib ("unknown image format ''")
        raise UserError(
            f"--output {args.output} is an extension alone: give a file name, e.g. {out.with_name('result' + out.name)}"
        )
    if not out.suffix:  # -o result: "unknown image format ''"
        raise UserError(
            f"--output {args.output} has no extension: end it with {', '.join(IMAGE_OUTPUTS)}, e.g. {out}.png "
            "(or with / for a folder)"
        )
    if out.suffix.lower() not in IMAGE_OUTPUTS:
        raise UserError(f"{out}: unknown image format '{out.suffix}': end --output with {', '.join(IMAGE_OUTPUTS)}")
    check_result(out, args.force, {Path(p).expanduser().resolve() for p in (args.content, args.style)})
    # fast_style.numbers' one rule for the numbers, in its words: "--size must be a whole number >= 16, got 8"
    weight = (lambda v: 0 <= v < math.inf, "a finite number >= 0", False)
    for name, within, takes, integer in (
        ("size", lambda v: v >= 16, "a whole number >= 16", True),
        ("style_size", lambda v: v >= 16, "a whole number >= 16", True),
        ("content_weight", *weight),
        ("style_weight", *weight),
        ("tv_weight", *weight),
    ):
        value = getattr(args, name)
        if value is not None:  # (a weight's None: the default of --weights)
            setattr(args, name, check_number("--" + name.replace("_", "-"), value, within, takes, integer))
    args.iterations, args.lr = check_iterations(args.iterations), check_lr(args.lr)  # (the library's rule)
    check_writable(out.parent, f"--output {out}")  # a read-only folder: found before the iterations, not after
    device = pick_device(args.device)
    content = read_content(args.content, args.size).to(device)
    # the painting read before the VGG: its mistakes said before a first run fetches the weights (a download)
    style = load_style_image(args.style, args.style_size).to(device)
    loss = PerceptualLoss(
        weights=args.weights,
        content_weight=args.content_weight,
        style_weight=args.style_weight,
        tv_weight=args.tv_weight,
    ).to(device)
    loss.set_style(style)
    image, history = optimize_image(content, loss, args.iterations, args.method, args.init, args.lr, progress=True)
    with reading(args.content):  # its transparency and metadata (EXIF, XMP, profile) kept, as stylize keeps them
        photo = read_image(args.content)
    alpha = read_alpha(args.content, (image.shape[-1], image.shape[-2]), photo)
    written = write_result(image, history, out, args.force, alpha, photo)
    finished()  # a Ctrl-C from here is no interruption: the result is written
    print(
        f"wrote {out} (total loss {history[0]:.4g} -> {history[-1]:.4g}); loss curve: {written[1]}, "
        f"tensorboard --logdir {shlex.quote(str(written[2]))}"
    )


if __name__ == "__main__":
    sys.exit(main())
