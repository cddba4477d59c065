"""The per-image algorithm of Gatys et al. 2016 (`fast-style-optimize`).

Optimizes the pixels of one image against the same perceptual losses the networks are trained with
(L-BFGS or Adam, from the content photo or from noise). It is the slow, highest-quality mode for a single
image, and the reference a feed-forward network approximates (`fast-style-eval --reference optimize:N`).
"""

from __future__ import annotations

import csv
import logging
import sys
from pathlib import Path

import torch
from PIL import Image, ImageDraw

from fast_style.atomic import atomic_write
from fast_style.errors import UserError
from fast_style.images import save_image, tensor_to_pil
from fast_style.loss import PerceptualLoss

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
        opt: torch.optim.Optimizer = torch.optim.LBFGS(
            [z], lr=lr or 1.0, max_iter=1, history_size=50, line_search_fn="strong_wolfe"
        )
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
        pts = [
            (20 + (w - 40) * i / (len(values) - 1), h - 20 - (h - 40) * (math.log10(max(v, 1e-30)) - lo) / span)
            for i, v in enumerate(values)
        ]
        draw.line(pts, fill=(200, 40, 40), width=2)
        draw.text((22, 4), f"total loss (log): {max(finite):.3g} -> {finite[-1]:.3g}", fill="black")
    draw.rectangle([20, 20, w - 20, h - 20], outline=(150, 150, 150))
    img.save(path, format="PNG")


def write_result(image: torch.Tensor, history: list[float], out: Path) -> list[Path]:
    """The image (1, 3, H, W) to `out`, its loss curve beside it as `<stem>_loss.png` and `.csv`, atomically."""
    curve = out.with_name(out.stem + "_loss")
    save_image(tensor_to_pil(image[0]), out)
    with atomic_write(curve.with_suffix(".png")) as tmp:
        plot_curve(history, tmp)
    with atomic_write(curve.with_suffix(".csv")) as tmp:
        with open(tmp, "w", newline="") as f:
            csv.writer(f).writerows([("iteration", "total")] + [(i + 1, v) for i, v in enumerate(history)])
    return [out, curve.with_suffix(".png"), curve.with_suffix(".csv")]
