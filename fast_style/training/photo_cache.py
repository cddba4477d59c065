"""The resized-photo cache (data.cache_dir): a copy of every training photo with its shorter side at the crop
size (JPEG, quality 95), made once in parallel and made again when a photo changes; training then decodes those
small files (2.5x less CPU per image for COCO at 256 px, benchmarks/README.md). A photo that cannot be read leaves
a marker instead, so later runs do not try it again until it changes."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import warnings
from pathlib import Path

from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2
from tqdm import tqdm

from fast_style.atomic import DiskError, atomic_write
from fast_style.errors import UserError
from fast_style.media.images import open_rgb
from fast_style.plurals import counted

log = logging.getLogger(__name__)


def cached_copies(folder: str, files: list[Path], cache_dir: str, image_size: int) -> list[tuple[Path, Path]]:
    """(photo, its cached copy) for each photo under `folder`: a.png -> <cache>/<folder>-<hash>-256px/a.png.jpg"""
    root = Path(folder).expanduser()
    resolved, cache = root.resolve(), Path(cache_dir).expanduser().resolve()
    if cache.is_relative_to(resolved):
        raise UserError(
            f"data.cache_dir {cache_dir} is inside {folder}: its copies would be read as more "
            "photos; choose a folder outside it"
        )
    tag = hashlib.sha1(str(resolved).encode()).hexdigest()[:8]
    base = cache / f"{resolved.name}-{tag}-{image_size}px"
    return [(f, base / f.relative_to(root).parent / f"{f.name}.jpg") for f in files]


def fill_cache(
    pairs: list[tuple[Path, Path]], image_size: int, max_pixels: int | None, num_workers: int, cache_dir: str
) -> None:
    """Make the copies of `pairs` (cached_copies) that are missing or older than their photo, `num_workers` at a
    time; UserError where the cache cannot be written."""
    stale = [(src, dst) for src, dst in pairs if not _is_current(dst, src)]
    if not stale:
        return
    log.info("caching %s at %d px under %s", counted(len(stale), "photo"), image_size, cache_dir)
    loader = DataLoader(_Shrink(stale, image_size, max_pixels), batch_size=None, num_workers=num_workers)
    unreadable = 0
    for problem in tqdm(loader, total=len(stale), desc="caching photos", unit="img", mininterval=2):
        if problem and problem[0] == "unwritable":
            raise UserError(f"{problem[1]}: free some space or set data.cache_dir elsewhere")
        unreadable += problem is not None
    if unreadable:
        were = "1 unreadable photo was" if unreadable == 1 else f"{unreadable} unreadable photos were"
        log.warning("%s left out of the cache (training skips them)", were)


def unreadable_marker(copy: Path) -> Path:
    return copy.with_name(copy.name + ".unreadable")


def _is_current(copy: Path, photo: Path) -> bool:
    """Whether the cache already answers for `photo`: its copy, or its unreadable marker, has the photo's time."""
    stamp = photo.stat().st_mtime_ns
    return any(p.exists() and p.stat().st_mtime_ns == stamp for p in (copy, unreadable_marker(copy)))


class _Shrink(Dataset):
    """Item i writes jobs[i] = (photo, cached copy) with its shorter side resized to `image_size`; returns the
    problem as (kind, text), None on success. DataLoader workers run it in parallel."""

    def __init__(self, jobs: list[tuple[Path, Path]], image_size: int, max_pixels: int | None) -> None:
        self.jobs, self.image_size, self.max_pixels = jobs, image_size, max_pixels

    def __len__(self) -> int:
        return len(self.jobs)

    def __getitem__(self, i: int) -> tuple[str, str] | None:
        src, dst = self.jobs[i]
        try:
            stamp = src.stat().st_mtime_ns  # read first: a photo changed meanwhile gets a copy that looks stale
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                img = open_rgb(src, draft_size=self.image_size, max_pixels=self.max_pixels)
            img = v2.functional.resize(img, self.image_size, antialias=True)  # as training would, before cropping
        except Exception:
            return self._unreadable(src, dst)
        try:
            encoded = io.BytesIO()  # in memory first: Pillow's JPEG encoder leaves a short write unreported
            img.save(encoded, "JPEG", quality=95)
            with atomic_write(dst) as tmp:
                tmp.write_bytes(encoded.getbuffer())
                os.utime(tmp, ns=(stamp, stamp))  # the copy carries its photo's time: any change shows
        except DiskError as e:  # disk full, read-only folder...: stop; what is cached already stays good
            return ("unwritable", f"cannot write the image cache under {dst.parent}: {e.reason}")
        except OSError:
            return self._unreadable(src, dst)  # the encoder refused this image (e.g. wider than JPEG allows)
        return None

    @staticmethod
    def _unreadable(src: Path, dst: Path) -> tuple[str, str]:
        """Left out of the cache (the dataset skips it and says so); a marker with the photo's time means the
        next runs do not try it again until it changes. A copy of it from before it changed is removed (training
        went on from it, though said to skip the photo)."""
        try:
            dst.unlink(missing_ok=True)
            marker = unreadable_marker(dst)
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
            stamp = src.stat().st_mtime_ns
            os.utime(marker, ns=(stamp, stamp))
        except OSError:
            pass  # then it is simply tried again next time
        return ("unreadable", str(src))
