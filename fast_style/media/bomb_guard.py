"""Pillow's guard against decompression bombs (a small file that decodes to gigapixels): its limit set for a while,
its two refusals, and what they say. Torch-free: the command lines check --max-image-pixels before torch loads."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from PIL import Image

from fast_style.errors import remedy

# Pillow's two refusals of a picture over its limit: the error (over twice the limit), and the warning (over it),
# which the tools make an error (cli.run_reading_pictures: --max-image-pixels is the limit, not twice it)
BOMB = (Image.DecompressionBombError, Image.DecompressionBombWarning)


@contextlib.contextmanager
def pillow_pixel_limit(limit: int | None) -> Iterator[None]:
    """Within: Pillow's guard set to `limit` pixels (None: none); its own afterwards."""
    saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, limit
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def over_the_bomb_limit() -> str:
    """Why a picture over the guard's limit is refused, and how to let it in where the command can (its own
    --max-image-pixels, or Pillow's setting from Python); a command without the option says to shrink the file."""
    knob = remedy("--max-image-pixels", "PIL.Image.MAX_IMAGE_PIXELS")
    how = f": {knob}): raise it if you trust this file" if knob else " pixels): use a smaller copy of it"
    return f"more pixels than Pillow's guard against decompression bombs allows ({Image.MAX_IMAGE_PIXELS}{how}"
