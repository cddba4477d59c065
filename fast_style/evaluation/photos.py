"""The held-out photos an evaluation scores (folders, picture files and globs, read as fast-style-stylize reads its
inputs), and the first of them read again at one size for the flicker's clips."""

from __future__ import annotations

import contextlib
import glob
import logging
from collections import Counter
from pathlib import Path

import torch
from PIL import Image

from fast_style.errors import UserError, remedy, setting
from fast_style.file_kinds import IMAGE_EXTENSIONS, is_video
from fast_style.inference.plan import expand_inputs
from fast_style.media.animation import frame_count
from fast_style.media.bomb_guard import BOMB, over_the_bomb_limit
from fast_style.media.images import find_images, page_count, read_photo, unreadable_because
from fast_style.numbers import check_number
from fast_style.perceptual.loss import MIN_PHOTO_SIDE, size_keeping_side

log = logging.getLogger(__name__)


def load_photos(
    folders: list[str],
    size: int,
    skipped: list[Path] | None = None,
    sources: list[Path] | None = None,
    out: str | Path | None = None,
) -> list[tuple[str, torch.Tensor]]:
    """The images in `folders` (and below), picture files and globs (read as fast-style-stylize reads its inputs),
    each (name, (1, 3, H, W) in [0, 1]) with its longer side at most `size`; named by their paths within their
    folder (by the path given where two folders hold the same name). Unreadable or too small ones are skipped with a
    warning (and added to `skipped`); `sources`: filled with the files read; `out`: the reports' folder, whose
    contact sheet a glob leaves out (`--photos 'held/**' --out held/eval` scored it as a photo on the next run). One
    folder alone is taken too."""
    folders = [folders] if isinstance(folders, (str, Path)) else folders  # (a string was read as its letters: it
    # walked the whole file system from '/')
    size = check_number(  # (a number of the wrong type a TypeError, as every setting's)
        "the photos' size", size, lambda v: v >= MIN_PHOTO_SIDE, f"a whole number of pixels >= {MIN_PHOTO_SIDE}", True
    )
    files: list[tuple[Path, str]] = []
    for folder in folders:
        if not str(folder).strip():  # an unset shell variable: Path("") is the current folder, its pictures scored
            raise UserError(
                "a photo folder given is empty (an unset shell variable?): give a folder of held-out images (never "
                "training images)"
            )
        path = Path(folder).expanduser()  # ("~/held" had been taken for a glob: its photos named without subfolders)
        if not path.is_dir():  # a picture file or a glob (it had to be a folder, as stylize's inputs need not)
            if not glob.has_magic(str(folder)) and not path.exists() and not path.is_symlink():
                raise UserError(
                    f"photo '{folder}' does not exist: give a folder of held-out images, their files or a glob "
                    "(never training images)"
                )
            found = [f for f, _ in expand_inputs([str(folder)], None if out is None else str(out), IMAGE_EXTENSIONS)]
            if videos := [f for f in found if is_video(f)]:  # named outright ("cannot identify image file")
                raise UserError(
                    f"{videos[0]} is a video: give held-out photos (the flicker is measured on clips made from them)"
                )
            files += [(f, f.name) for f in found]
            continue
        found = find_images(path)
        if not found:
            raise UserError(f"no photos in '{folder}': give a folder of held-out images (never training images)")
        for f in found:
            try:
                files.append((f, f.relative_to(path).as_posix()))
            except ValueError:  # reached through a link: not below the folder's own path
                files.append((f, f.name))
    unique: dict[Path, tuple[Path, str]] = {}  # a photo once, where folders overlap (--photos a a/sub): it counted 2x
    for f, name in files:
        unique.setdefault(f.resolve(), (f, name))
    files = list(unique.values())
    names = Counter(name for _, name in files)
    photos, sizes_that_keep, over_the_limit = [], [], 0
    for f, name in files:
        try:
            photo = read_photo(f, size)
        except (OSError, ValueError, *BOMB) as e:
            over_the_limit += isinstance(e, BOMB)
            log.warning(
                "skipping %s: %s",
                f,
                over_the_bomb_limit() if isinstance(e, BOMB) else unreadable_because(f, e),
            )
            if skipped is not None:
                skipped.append(f)
            continue
        h, w = photo.shape[-2:]
        if min(h, w) < MIN_PHOTO_SIDE:
            keep = None
            with contextlib.suppress(OSError), Image.open(f) as img:  # the size that keeps it (none if too small)
                if (keep := size_keeping_side(*img.size)) is not None:
                    sizes_that_keep.append(keep)
                else:  # its own size, not the one --size made (a 200x10 strip was "32x2, under 16 px a side")
                    w, h = img.size[:: -1 if img.getexif().get(0x0112, 1) in (5, 6, 7, 8) else 1]  # (as shown)
            # "at --size": only where the size made it so (a 5x5 photo was "5x5 at --size 32", as if that were why)
            at = f" at {setting('--size', 'size', size)}" if keep is not None else ""
            log.warning("skipping %s: %dx%d%s, under %d px a side", f, w, h, at, MIN_PHOTO_SIDE)
            if skipped is not None:
                skipped.append(f)
            continue
        with contextlib.suppress(OSError, ValueError, *BOMB):  # (as fast-style-optimize says it; it went unsaid)
            if (frames := frame_count(f)) > 1:
                log.warning("%s: an animation of %d frames: only the first is scored", f, frames)
            elif (pages := page_count(f)) > 1:
                log.warning("%s: a TIFF of %d pages: only the first is scored", f, pages)
        photos.append((name if names[name] == 1 else str(f), photo))
        if sources is not None:
            sources.append(f)
    if not photos:  # all skipped: unreadable, or too small at that size (the warnings above say which)
        knob = remedy("--max-image-pixels", "PIL.Image.MAX_IMAGE_PIXELS")
        if sizes_that_keep:
            advice = f"give {setting('--size', 'size', min(sizes_that_keep))} or more"  # (it asked for other photos)
        elif over_the_limit == len(files):  # (it asked for photos 16 px a side: they were, and larger)
            advice = f"raise {knob} if you trust them, or give smaller copies" if knob else "give smaller copies"
        else:
            advice = f"give readable photos at least {MIN_PHOTO_SIDE} px a side at {setting('--size', 'size', size)}"
        raise UserError(
            f"none of the photos in {', '.join(map(str, folders))} could be used (see the warnings above): {advice}"
        )
    return photos


STABILITY_SIZE = 384  # the photos' longer side for the flicker's clips, whatever --size (the README's figures)


def stability_clips(
    photos: list[tuple[str, torch.Tensor]], sources: list[Path], count: int
) -> list[tuple[str, torch.Tensor]]:
    """The first `count` of `photos` read again from their files (`load_photos`' `sources`) at STABILITY_SIZE, for
    `evaluate`'s `clip_photos`: the flicker is then the same at any --size (one model's: 1.3 at 384 px, 4.2 at 64)."""
    return [(name, read_photo(f, STABILITY_SIZE)) for (name, _), f in zip(photos, sources[:count])]
