"""Small file helpers shared by training and inference: user errors, atomic writes, image reading."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


class UserError(Exception):
    """A mistake the user can fix; entry points print its one-line message instead of a traceback."""


# a write failed for lack of room or rights, not because of the data: stop and say so in one line
DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.EIO}


class DiskError(UserError):
    """A file could not be written (full disk, quota, read-only, no permission); nothing written before is lost."""

    def __init__(self, what: str | Path, reason: str) -> None:
        super().__init__(f"cannot write {what}: {reason} (files written before it are intact)")
        self.reason = reason


@contextmanager
def writing(what: str | Path) -> Iterator[None]:
    """Turn a failed write of `what` (disk full, quota, read-only, permissions) into a one-line DiskError."""
    try:
        yield
    except OSError as e:
        if e.errno not in DISK_ERRORS:
            raise
        raise DiskError(what, e.strerror or str(e)) from None


@contextmanager
def atomic_write(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it is fsynced and renamed over `path`. A write that fails
    for lack of room or rights (in the caller's block too) is a one-line DiskError naming `path`."""
    path = Path(path)
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            yield Path(tmp)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the file the user's usual mode
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)


def save_torch(obj: object, path: str | Path) -> Path:
    """torch.save, atomically. Serialized in memory first: torch's own file writer turns a full disk into a
    RuntimeError (or, for TorchScript, aborts the process) instead of an OSError that can be reported."""
    import io
    import warnings

    import torch

    buffer = io.BytesIO()
    with warnings.catch_warnings():  # TorchScript's deprecation notice: the export is offered on purpose
        warnings.filterwarnings("ignore", message=r".*torch\.jit.*deprecated", category=FutureWarning)
        (torch.jit.save if isinstance(obj, torch.jit.ScriptModule) else torch.save)(obj, buffer)
    with atomic_write(path) as tmp:
        tmp.write_bytes(buffer.getvalue())
    return Path(path)


def read_image(path: str | Path, draft_size: int | None = None, max_pixels: int | None = None) -> Image.Image:
    """Open and decode an image with its EXIF orientation applied, keeping its mode (and alpha).

    `draft_size` lets JPEG decode at a reduced scale that still covers that many pixels on the short
    side, which is several times faster for training crops far smaller than the photo. Images with more
    than `max_pixels` pixels are refused before they are decoded (decompression bombs).
    """
    with Image.open(path) as img:
        if max_pixels and img.width * img.height > max_pixels:
            raise ValueError(f"{img.width}x{img.height} is over the limit of {max_pixels} pixels")
        if draft_size and img.format == "JPEG":
            w, h = img.size
            k = max(1, min(w, h) // draft_size)
            img.draft(img.mode, (w // k, h // k))
        img.load()
        return ImageOps.exif_transpose(img, in_place=False) if img.getexif().get(0x0112, 1) != 1 else img


def split_alpha(img: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """Any Pillow mode -> (RGB image, alpha channel or None)."""
    alpha = None
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (img.mode == "P" and "transparency" in img.info):
        img = img.convert("RGBA")
        alpha = img.getchannel("A")
    elif img.mode in ("I", "F") or img.mode.startswith("I;16"):
        # 16/32-bit greyscale: scale to 8 bits rather than let convert() clip at 255
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    return (img if img.mode == "RGB" else img.convert("RGB")), alpha


def open_rgb(path: str | Path, draft_size: int | None = None, max_pixels: int | None = None) -> Image.Image:
    """An image as RGB, EXIF orientation applied, transparency composited on white."""
    rgb, alpha = split_alpha(read_image(path, draft_size, max_pixels))
    if alpha is not None:
        rgb = Image.composite(rgb, Image.new("RGB", rgb.size, (255, 255, 255)), alpha)
    return rgb


def native_bf16(device_type: str | None = None) -> bool:
    """Whether `device_type` ("cuda", "cpu"; None: CUDA if present, else the CPU) computes bf16 natively:
    an Ampere or newer GPU, or a CPU with AVX512-BF16 or AMX (where bf16 autocast about halves conv time)."""
    import torch

    if device_type is None:
        device_type = "cuda" if torch.cuda.is_available() else "cpu"
    if device_type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()) and torch.backends.mkldnn.is_available()
    except (AttributeError, RuntimeError):
        return False


def default_loss_weights(source: str = "caffe") -> dict[str, float]:
    """content/style/tv weights of configs/loss/<source>.yaml, the defaults training uses."""
    from omegaconf import OmegaConf

    name = source if source in ("caffe", "torchvision") else "torchvision"
    cfg = OmegaConf.load(CONFIG_DIR / "loss" / f"{name}.yaml")
    return {k: float(cfg[k]) for k in ("content_weight", "style_weight", "tv_weight")}


def find_images(root: str | Path, extensions: tuple[str, ...] = IMAGE_EXTENSIONS) -> list[Path]:
    """Files below `root` with one of `extensions` (images by default), recursively, sorted for reproducibility."""
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in extensions and p.is_file())
