"""`fast-style-optimize`: the per-image algorithm of Gatys et al. 2016.

Optimizes the pixels of one image against the same perceptual losses the networks are trained with
(L-BFGS or Adam, from the content photo or from noise). It is the slow, highest-quality mode for a single
image, and the reference a feed-forward network approximates (`fast-style-eval --reference optimize:N`).
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from fast_style.data import load_style_image
from fast_style.files import UserError, atomic_write, default_loss_weights, open_rgb
from fast_style.loss import PerceptualLoss
from fast_style.stylize import pick_device, pil_to_tensor, tensor_to_pil

log = logging.getLogger(__name__)



def optimize_image(
    content: torch.Tensor,
    loss: PerceptualLoss,
    iterations: int = 100,
    method: str = "lbfgs",
    init: str = "content",
    lr: float | None = None,
    progress: bool = False,
) -> tuple[torch.Tensor, list[float]]:
    """content: (1, 3, H, W) in [0, 1], with `loss.set_style` done. Returns (image, total loss per iteration).

    The image is optimized in logit space, so it stays a valid image without clamping.
    """
    if method not in ("lbfgs", "adam"):
        raise UserError(f"unknown method '{method}': use lbfgs or adam")
    if init not in ("content", "noise"):
        raise UserError(f"unknown init '{init}': use content or noise")
    start = content.clamp(0.01, 0.99) if init == "content" else torch.rand_like(content) * 0.5 + 0.25
    z = torch.logit(start).detach().contiguous().requires_grad_(True)
    if method == "lbfgs":
        opt: torch.optim.Optimizer = torch.optim.LBFGS([z], lr=lr or 1.0, max_iter=1, history_size=50,
                                                       line_search_fn="strong_wolfe")
    else:
        opt = torch.optim.Adam([z], lr=lr or 0.05)
    history: list[float] = []

    def closure() -> torch.Tensor:
        opt.zero_grad()
        total = loss(torch.sigmoid(z), content)["total"]
        total.backward()
        return total

    from tqdm import tqdm

    for _ in tqdm(range(iterations), disable=not progress, unit="it", file=sys.stderr):
        value = opt.step(closure)
        history.append(float(value.detach()))
    with torch.no_grad():
        return torch.sigmoid(z).detach(), history


def plot_curve(values: list[float], path: Path, size: tuple[int, int] = (480, 240)) -> None:
    """A small log-scale loss curve as PNG (no plotting library needed)."""
    import math

    w, h = size
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    finite = [v for v in values if v > 0 and math.isfinite(v)]
    if len(finite) >= 2:
        lo, hi = math.log10(min(finite)), math.log10(max(finite))
        span = hi - lo or 1.0
        pts = [(20 + (w - 40) * i / (len(values) - 1), h - 20 - (h - 40) * (math.log10(max(v, 1e-30)) - lo) / span)
               for i, v in enumerate(values)]
        draw.line(pts, fill=(200, 40, 40), width=2)
        draw.text((22, 4), f"total loss (log): {max(finite):.3g} -> {finite[-1]:.3g}", fill="black")
    draw.rectangle([20, 20, w - 20, h - 20], outline=(150, 150, 150))
    img.save(path, format="PNG")


def check_outputs(outputs: list[Path], inputs: list[Path], force: bool) -> None:
    """Refuses (UserError) an output that is an input, a folder, of an unknown image format (the first), or
    that exists without `force`."""
    if outputs[0].is_dir():
        raise UserError(f"{outputs[0]} is a folder: give --output a file name, e.g. {outputs[0] / 'result.png'}")
    if outputs[0].suffix.lower() not in Image.registered_extensions():
        raise UserError(f"{outputs[0]}: unknown image format '{outputs[0].suffix}': end --output with .png or .jpg")
    for path in outputs:
        if path.is_dir():
            raise UserError(f"{path} is a folder: choose another --output")
        if path.exists() and any(i.exists() and path.samefile(i) for i in inputs):
            raise UserError(f"{path} is an input: choose another --output")
        if path.exists() and not force:
            raise UserError(f"{path} exists: use --force to overwrite it")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="fast-style-optimize", description=__doc__.splitlines()[0])
    p.add_argument("content", help="the photo")
    p.add_argument("-s", "--style", required=True, help="the style image")
    p.add_argument("-o", "--output", required=True, help="output image; its loss curve goes beside it (.png/.csv)")
    p.add_argument("--iterations", type=int, default=300)
    p.add_argument("--method", choices=["lbfgs", "adam"], default="lbfgs")
    p.add_argument("--init", choices=["content", "noise"], default="content")
    p.add_argument("--lr", type=float, help="step size (default: 1 for L-BFGS, 0.05 for Adam)")
    p.add_argument("--size", type=int, default=512, help="longer side of the content image in px (default 512)")
    p.add_argument("--style-size", type=int, default=512, help="longer side of the style image in px")
    p.add_argument("--weights", default="caffe", help="VGG weights: caffe, torchvision or a file")
    p.add_argument("--content-weight", type=float, help="default: configs/loss/<weights>.yaml")
    p.add_argument("--style-weight", type=float)
    p.add_argument("--tv-weight", type=float)
    p.add_argument("--device", default="auto")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        out = Path(args.output)
        curve = out.with_name(out.stem + "_loss")
        outputs = [out, curve.with_suffix(".png"), curve.with_suffix(".csv")]
        check_outputs(outputs, [Path(args.content), Path(args.style)], args.force)
        for flag, value, least in (("--iterations", args.iterations, 1), ("--size", args.size, 16),
                                   ("--style-size", args.style_size, 16)):
            if value < least:
                raise UserError(f"{flag} must be >= {least}, got {value}")
        if args.lr is not None and not args.lr > 0:
            raise UserError(f"--lr must be > 0, got {args.lr}")
        device = pick_device(args.device)
        try:
            photo = open_rgb(args.content)
        except (OSError, ValueError) as e:
            raise UserError(f"cannot read {args.content}: {e}") from None
        photo.thumbnail((args.size, args.size), Image.LANCZOS)
        content = (pil_to_tensor(photo).float() / 255)[None].to(device)
        weights = default_loss_weights(args.weights)
        for key in weights:
            if getattr(args, key) is not None:
                weights[key] = getattr(args, key)
        loss = PerceptualLoss(weights=args.weights, **weights).to(device)
        loss.set_style(load_style_image(args.style, args.style_size).to(device))
        image, history = optimize_image(content, loss, args.iterations, args.method, args.init, args.lr, progress=True)
        with atomic_write(out) as tmp:
            tensor_to_pil(image[0]).save(tmp, format=Image.registered_extensions()[out.suffix.lower()])
        with atomic_write(curve.with_suffix(".png")) as tmp:
            plot_curve(history, tmp)
        with atomic_write(curve.with_suffix(".csv")) as tmp:
            with open(tmp, "w", newline="") as f:
                csv.writer(f).writerows([("iteration", "total")] + [(i + 1, v) for i, v in enumerate(history)])
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out} (total loss {history[0]:.4g} -> {history[-1]:.4g}); loss curve: {outputs[1]}, {outputs[2]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
