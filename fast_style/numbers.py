"""A setting's number, checked as a constructor takes it: a real number (not a bool, not NaN, which passes every
comparison) in its range, else one line naming the setting and what it takes."""

from __future__ import annotations

import math
from collections.abc import Callable

from fast_style.errors import UserError


def check_number(name: str, value: object, within: Callable[[float], bool], takes: str, integer: bool = False) -> None:
    """UserError "`name` must be `takes`, got `value`" unless `value` is a number (an int for `integer`) that
    `within` accepts: `check_number("temporal.weight", w, lambda v: v >= 0, "a number >= 0")`."""
    kinds = int if integer else (int, float)
    number = not isinstance(value, bool) and isinstance(value, kinds) and not math.isnan(value)
    if not (number and within(value)):  # type: ignore[arg-type]
        raise UserError(f"{name} must be {takes}, got {value!r}")
