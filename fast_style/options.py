"""The options every stylization takes (strength, max size, scale, smoothing, tiling), each checked by one rule in one
wording for the Python API, the command lines and the server. `name` is the setting as the caller spells it: by
default the command's option while a command runs, else the Python argument (errors.setting); the server passes its
field's name.

A value of the wrong type (a string, a bool, anything but one real number) is a TypeError, a programming mistake; a
number it does not take (out of range, NaN) is a UserError: fast_style.numbers.check_number's rule, in its wording
(a value as fast_style.numbers.shown says it)."""

from __future__ import annotations

import math
import os

from fast_style.errors import UserError, setting
from fast_style.numbers import check_number, shown


def as_number(name: str, value: object) -> float:
    """`value` as a float, by fast_style.numbers' one rule (`check_number`, any value): TypeError for one that is not
    one number (a string, '0.5', was compared as text deep inside; a complex one), UserError for NaN (which passed
    every range check); numpy numbers and one-element tensors are numbers."""
    return float(check_number(name, value, lambda _: True, "a number"))


def check_flag(name: str, value: object, none: bool = False) -> bool | None:
    """A yes-or-no option (preserve_color, tiled) as a bool, or None where `none` (tiled's: decided by size);
    TypeError for anything else (preserve_color="false" kept the colours, tiled="no" tiled)."""
    if none and value is None:
        return None
    try:
        if not isinstance(value, (str, bytes)) and value in (True, False):  # numpy's bools, 0 and 1 too
            return bool(value)
    except (ValueError, RuntimeError):  # an array's ambiguous truth
        pass
    raise TypeError(f"{name} must be True or False{' (or None)' if none else ''}, not {value!r}")


def check_callable(name: str, value: object, takes: str, none: bool = False) -> None:
    """TypeError where `value` is not a function (or None, where `none`), before any file is opened: `takes` says what
    it is given and returns (stylize_video(src, dst, None) failed once the video was open: "'NoneType' object is not
    callable")."""
    if not callable(value) and not (none and value is None):
        raise TypeError(f"{name} must be a function {takes}{' (or None)' if none else ''}, not {shown(value)}")


def check_path(name: str, value: object, what: str) -> None:
    """TypeError where `value` is not a path (a str or a Path): pathlib's "expected str, bytes or os.PathLike object,
    not NoneType" named no argument."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} is {what}'s path (a str or a Path), not {shown(value)}")


def check_strength(value: object, name: str | None = None) -> float:
    """0: the photo, 1: the full style, blended between."""
    name = name or setting("--strength", "strength")
    return float(check_number(name, value, lambda v: 0 <= v <= 1, "within 0..1 (0: the photo, 1: the full style)"))


def check_max_size(value: object, name: str | None = None) -> int | None:
    """The longest side of a result in whole pixels, or None: the image's own size (100.5 had been taken from Python
    and refused by the server alone)."""
    name = name or setting("--max-size", "max_size")
    if value is None:
        return None
    return int(check_number(name, value, lambda v: v >= 1, "a whole number of pixels >= 1", integer=True))


def check_scale(value: object, name: str | None = None) -> float | None:
    """A factor on both sides of an image before it is stylized, or None: a finite one (inf had been refused as not
    "a number > 0")."""
    name = name or setting("--scale", "scale")
    takes = "a finite number > 0"
    return None if value is None else float(check_number(name, value, lambda v: 0 < v < math.inf, takes))


def check_smoothing(value: object, name: str | None = None) -> float:
    """Temporal smoothing of video frames: 0 (none) up to, not including, 1."""
    name = name or setting("--smooth", "smooth")
    return float(check_number(name, value, lambda v: 0 <= v < 1, "within 0..1 (1 excluded; 0: none)"))


def check_tile(value: object, name: str | None = None) -> int:
    """The side of the tiles a large image is stylized in: at least 64 px (a 300x200 picture took 80 s in 1 px
    tiles, a few milliseconds whole)."""
    name = name or setting("--tile", "tile")
    return int(check_number(name, value, lambda v: v >= 64, "a whole number of pixels >= 64", integer=True))


def check_max_pixels(value: object, name: str | None = None) -> int:
    """Images with more pixels than this are stylized in tiles; 0: never. A count of pixels, not megapixels."""
    name = name or setting("--max-pixels", "max_pixels")
    takes = "a whole number of pixels, at least 4096 (0: never tile)"
    if 0 < check_number(name, value, lambda _: True, takes) < 64 * 64:  # (4.2, meaning megapixels, tiled every picture)
        raise UserError(
            f"{name} {shown(value)} is a count of pixels, not megapixels: 4.2 MP is 4.2e6; give at least 4096 "
            "(64 x 64), or 0: never tile"
        )
    return int(check_number(name, value, lambda v: v >= 0, takes, integer=True))
