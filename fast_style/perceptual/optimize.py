"""The per-image algorithm of Gatys et al. 2016 (`fast-style-optimize`).

Optimizes the pixels of one image against the same perceptual losses the networks are trained with
(L-BFGS or Adam, from the content photo or from noise). It is the slow, highest-quality mode for a single
image, and the reference a feed-forward network approximates (`fast-style-eval --reference optimize:N`).
"""

from __future__ import annotations

import csv
import logging
import math
import shutil
import sys
import tempfile
from pathlib import Path

import torch
from PIL import Image

from fast_style.atomic import atomic_writes, writing
from fast_style.errors import UserError, setting
from fast_style.media.animation import frame_count
from fast_style.media.images import encode_image, page_count, read_image, read_photo, reading, split_alpha
from fast_style.media.pixels import tensor_to_pil
from fast_style.numbers import check_number
from fast_style.outputs import check_output, to_overwrite
from fast_style.perceptual.loss import MIN_PHOTO_SIDE, PerceptualLoss, size_keeping_side
from fast_style.plurals import counted

log = logging.getLogger(__name__)

LINE_SEARCH_EVALS = 25  # the most loss evaluations one L-BFGS iteration's line search may take (torch's max_ls)


def read_content(path: str | Path, size: int) -> torch.Tensor:
    """The content photo as (1, 3, H, W) in [0, 1], its longer side at most `size`; UserError where it cannot be
    read, or where it is under MIN_PHOTO_SIDE a side at that size (VGG's poolings leave nothing of it: a
    RuntimeError's traceback), naming the size that keeps it. An animation's or multi-page TIFF's first picture,
    with a warning."""
    if not str(path).strip():  # (Path("") is the current folder: "photo '' is a folder, not a photo")
        raise UserError("the photo's path is empty (an unset shell variable?): give the path of one photo")
    path = Path(path).expanduser()  # as load_style_image reads the painting ("~/photo.jpg" was "not found")
    if not path.is_file():  # as a style image's: "cannot read x.jpg: [Errno 2] No such file or directory"
        problem = "is a folder, not a photo" if path.is_dir() else "not found"
        raise UserError(f"photo '{path}' {problem}: give the path of one photo (.jpg, .png, ...)")
    with reading(path):
        content = read_photo(path, size)
    if (frames := frame_count(path)) > 1:  # (as fast-style-stylize says it; it went without a word)
        log.warning("%s: an animation of %d frames: only the first is optimized", Path(path).name, frames)
    elif (pages := page_count(path)) > 1:
        log.warning("%s: a TIFF of %d pages: only the first is optimized", Path(path).name, pages)
    if min(content.shape[-2:]) >= MIN_PHOTO_SIDE:
        return content
    with Image.open(path) as whole:
        w, h = whole.size
    keep = size_keeping_side(w, h)
    if keep is None:
        raise UserError(f"{path} is {w}x{h}: under {MIN_PHOTO_SIDE} px a side, too small")
    raise UserError(
        f"{path} is {content.shape[-1]}x{content.shape[-2]} at {setting('--size', 'size', size)}, under "
        f"{MIN_PHOTO_SIDE} px a side: give {setting('--size', 'size', keep)} or more"
    )


def read_alpha(path: str | Path, size: tuple[int, int], photo: Image.Image | None = None) -> Image.Image | None:
    """The photo's transparency at the result's `size` (width, height), for `write_result`; None for an opaque
    photo. (The optimization itself sees the photo on white, as `read_content` gives it.) `photo`: the photo as
    `images.read_image` gave it already (else it is read from `path`)."""
    if photo is None:
        path = Path(path).expanduser()  # as read_content reads it
        with reading(path):
            photo = read_image(path)
    _, alpha = split_alpha(photo)
    if alpha is None or alpha.getextrema()[0] == 255:
        return None
    return alpha.resize(size, Image.LANCZOS)


def check_iterations(value: object) -> int:
    """The optimizer steps, at least 1, by one rule for optimize_image and fast-style-optimize (the command had
    refused 0, which gave the photo back unoptimized, where the function took it)."""
    name = setting("--iterations", "iterations")
    return int(check_number(name, value, lambda v: v >= 1, "a whole number >= 1", integer=True))


def check_lr(value: object) -> float | None:
    """The step size, a finite number > 0, or None: the method's default (0 had stood for the default, a negative
    one was torch's ValueError). One rule and one wording for optimize_image and fast-style-optimize (the function
    had said "a number > 0" of the inf it refused, the command "a finite number > 0")."""
    if value is None:
        return None
    name = setting("--lr", "lr")
    takes = "a finite number > 0" + ("" if name == "--lr" else ", or None for the method's default")
    return float(check_number(name, value, lambda v: 0 < v < math.inf, takes))


def optimize_image(
    content: torch.Tensor,
    loss: PerceptualLoss,
    iterations: int = 100,
    method: str = "lbfgs",
    init: str = "content",
    lr: float | None = None,
    progress: bool = False,
) -> tuple[torch.Tensor, list[float]]:
    """content: (1, 3, H, W) in [0, 1], with `loss.set_style` done. Returns (image, total loss after each number
    of iterations: `iterations` + 1 values, the first the starting image's, the last the returned image's).

    The image is optimized in logit space, so it stays a valid image without clamping.
    """
    if not isinstance(content, torch.Tensor) or content.ndim != 4 or content.shape[:2] != (1, 3):
        got = tuple(content.shape) if isinstance(content, torch.Tensor) else type(content).__name__
        raise UserError(f"content must be one image of shape (1, 3, H, W), got {got}")
    if not content.is_floating_point():  # uint8 came out all white (clamped to 0.99)
        raise UserError(f"content must be float in [0, 1], got {content.dtype}: divide uint8 images by 255")
    low, high = (float(v) for v in torch.aminmax(content.detach()))
    if not (-0.01 <= low and high <= 1.01):  # (NaN fails too) 0..255 floats: a loss of 2.5e10
        raise UserError(f"content must be in [0, 1], got values from {low:.3g} to {high:.3g}")
    weights = [getattr(loss, f"{w}_weight", None) for w in ("content", "style", "tv")]  # (a loss of one's own: none)
    if all(w == 0 for w in weights):  # it wrote the photo unchanged, exit 0
        names = ", ".join(setting(f"--{w}-weight", f"{w}_weight") for w in ("content", "style", "tv"))
        raise UserError(f"{names} are all 0: nothing to optimize; give one of them a value > 0")
    if method not in ("lbfgs", "adam"):
        raise UserError(f"unknown method '{method}': use lbfgs or adam")
    if init not in ("content", "noise"):
        raise UserError(f"unknown init '{init}': use content or noise")
    lr = check_lr(lr)
    iterations = check_iterations(iterations)
    start = content.clamp(0.01, 0.99) if init == "content" else torch.rand_like(content) * 0.5 + 0.25
    z = torch.logit(start).detach().contiguous().requires_grad_(True)
    if method == "lbfgs":
        # one iteration per step (a loss value per iteration for the curve); max_eval must be given: torch derives
        # it as max_iter * 5 // 4 = 1, which left the line search no evaluation and stalled every run after
        # its second iteration (starry_night at 256 px: 5.7e6 flat, against 1.6e5 in 60 iterations now)
        opt: torch.optim.Optimizer = torch.optim.LBFGS(
            [z],
            lr=1.0 if lr is None else lr,
            max_iter=1,
            max_eval=LINE_SEARCH_EVALS + 1,
            history_size=50,
            line_search_fn="strong_wolfe",
        )
    else:
        opt = torch.optim.Adam([z], lr=0.05 if lr is None else lr)
    history: list[float] = []

    def closure() -> torch.Tensor:
        opt.zero_grad()
        total = loss(torch.sigmoid(z), content)["total"]
        total.backward()
        return total

    from tqdm import tqdm

    def checked(value: float) -> float:
        if not math.isfinite(value):  # the picture is lost (all black): say so instead of writing it
            if not history:  # (no step taken: the learning rate is beside the point)
                raise UserError(f"the loss is {value} for the starting image: lower the weights")
            raise UserError(
                f"the loss became {value} after {counted(len(history), 'iteration')}: lower the learning rate or the "
                "weights"
            )
        return value

    for _ in tqdm(range(iterations), disable=None if progress else True, unit="it", file=sys.stderr):  # (a terminal's)
        # a step returns the loss it started from: the image before it (the last step's result is scored below)
        try:
            started = opt.step(closure)
        except RuntimeError as e:  # a rate past float32's range (--lr 1e39): torch's "cannot be converted to type
            if "without overflow" not in str(e):  # float without overflow", a traceback
                raise
            raise UserError(
                f"the step overflowed after {counted(len(history), 'iteration')}: lower the learning rate "
                f"({setting('--lr', 'lr', lr)})"
            ) from None
        history.append(checked(float(started.detach())))
    with torch.no_grad():
        image = torch.sigmoid(z).detach()
        history.append(checked(float(loss(image, content)["total"])))
        return image, history


def curve_paths(out: Path) -> tuple[Path, Path]:
    """Where `write_result` puts the loss curve beside `out`: `<stem>_loss.csv` and a TensorBoard folder
    `<stem>_tensorboard/` (`tensorboard --logdir` it, as for training runs)."""
    return out.with_name(out.stem + "_loss.csv"), out.with_name(out.stem + "_tensorboard")


def check_result(out: Path, force: bool, inputs: set[Path] = frozenset()) -> None:
    """UserError where `write_result` may not write `out` and its curve: over one of `inputs` (resolved paths), a
    folder, or without `force` over an existing image, CSV or earlier TensorBoard curve."""
    csv_path, board = curve_paths(out)
    for path in (out, csv_path):  # the curve's named after the picture, not by the user ("give a file's name")
        check_output(path, force, inputs, named=path == out)
    if board.exists() and not board.is_dir():
        raise UserError(f"{board} is a file: the loss curve's TensorBoard folder goes there; choose another output")
    if any(board.glob("events.out.tfevents.*")) and not force:
        raise UserError(f"{board} holds an earlier loss curve: {to_overwrite()} it")


def write_result(
    image: torch.Tensor,
    history: list[float],
    out: str | Path,
    force: bool = False,
    alpha: Image.Image | None = None,
    source: Image.Image | None = None,
) -> list[Path]:
    """The image (1, 3, H, W) to `out` and its loss curve beside it (`curve_paths`); an earlier image and curve
    are replaced only with `force` (`check_result`). `alpha`: the photo's transparency (`read_alpha`), kept where
    the format holds it (a PNG, WebP or AVIF; a JPEG is on white, with a warning, as fast-style-stylize writes it).
    `source`: the photo as `images.read_image` gives it, whose metadata is kept as fast-style-stylize keeps it
    (EXIF, XMP, an sRGB profile where it had a profile: images.kept_metadata; the picture had none of them)."""
    out = Path(out).expanduser()  # as read_content reads the photo (it wrote ./~/out.png and its curve there)
    check_result(out, force)
    from torch.utils.tensorboard import SummaryWriter

    csv_path, board = curve_paths(out)
    picture = tensor_to_pil(image[0])
    if alpha is not None:  # (it came out on white: fast-style-stylize keeps a photo's transparency)
        picture.putalpha(alpha)
    encoded = encode_image(picture, out, source)
    # TensorBoard's events are made in the system's temporary folder and copied beside the image whole: written
    # there, a full disk left an empty events file (that a rerun took for an earlier curve) and TensorBoard's
    # writer thread printed a traceback, after the earlier curve had been deleted
    with tempfile.TemporaryDirectory(prefix="fast-style-curve.") as scratch:
        with SummaryWriter(scratch) as writer:
            for i, value in enumerate(history):
                writer.add_scalar("optimize/total", value, i)
        (events,) = Path(scratch).glob("events.out.tfevents.*")
        earlier = [p for p in board.glob("events.out.tfevents.*") if p.name != events.name]
        paths = [out, csv_path, board / events.name]  # all three or none (an image without its curve then
        with atomic_writes(paths, overwrite=force) as (image_tmp, csv_tmp, events_tmp):  # asked for --force)
            with writing(out):
                image_tmp.write_bytes(encoded)
            with writing(csv_path), open(csv_tmp, "w", newline="") as f:
                csv.writer(f).writerows([("iteration", "total")] + list(enumerate(history)))  # 0: the start
            with writing(board):
                shutil.copyfile(events, events_tmp)
    for old in earlier:  # an earlier run's curve (forced), once the new one is whole
        old.unlink()
    return [out, csv_path, board]
