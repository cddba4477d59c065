"""A setting's number, checked as a constructor takes it: a real number (not a bool, not NaN, which passes every
comparison) in its range, else one line naming the setting and what it takes.

The rule for every caller (fast_style.options' too, through `check_number`): a one-element tensor or array is its
element (torch.tensor(0.5), np.array(3)); any integral number is taken through `operator.index` (numpy's int64,
uint8 ...: they had been refused, "an integer >= 1, got np.int64(4)"), any other real one (or a Decimal) through
`float` (numpy's float32; a whole one, 3.0, is 3 where a whole number is), and the checked number comes back as
Python's own int or float; a caller keeps that one, never the value it was given: a numpy number kept may reach a
saved hparams YAML, or a library that takes Python's numbers alone. Bools (numpy's too) are refused: True is no
count of anything. A value of the wrong type (no real number: a string, a complex number) is a TypeError, a number
out of range a UserError."""

from __future__ import annotations

import math
import numbers
import operator
import sys
from collections.abc import Callable
from decimal import Decimal

from fast_style.errors import UserError


def is_bool(value: object) -> bool:
    """Whether `value` is a bool: Python's, numpy's (np.True_) or a torch bool tensor's."""
    return isinstance(value, bool) or str(getattr(value, "dtype", "")) in ("bool", "torch.bool")


def element(value: object) -> object:
    """A one-element tensor or array (torch's, numpy's, of any shape) as its element, Python's number; anything else
    as it is (a tensor's strength had been taken, a tensor's temporal.weight refused: "a number, not tensor(1.)")."""
    item = getattr(value, "item", None)
    if not callable(item) or isinstance(value, numbers.Number):
        return value
    numel = getattr(value, "numel", None)
    return item() if (numel() if callable(numel) else getattr(value, "size", None)) == 1 else value


def plain_number(value: object, integer: bool = False) -> int | float | None:
    """`value` (or a one-element tensor's `element`) as Python's int (an integral number, numpy's included) or, unless
    `integer`, float (another real number: numpy's float32, a Fraction, a Decimal); None for anything else: a bool,
    NaN, a complex number, a string, a fraction for `integer`. A whole number's value is whole whatever its type: 3.0
    is 3 for `integer` (as max_size took 100.0, a JSON form's "32.0" and `1e3` among them; check_number had refused
    3.0 alone). An integer is exact for `integer`; otherwise one beyond a float's range (10**400) is -inf or inf, as
    that number written as a float is: beyond every finite range, never float()'s OverflowError in a caller."""
    value = element(value)
    if is_bool(value):
        return None
    try:
        whole = int(operator.index(value))  # type: ignore[arg-type]  # (int(): an IntEnum's member as an int)
    except TypeError:
        pass
    else:
        return whole if integer or abs(whole) <= sys.float_info.max else _float(whole)
    if not isinstance(value, (numbers.Real, Decimal)):
        return None
    number = math.nan if isinstance(value, Decimal) and value.is_nan() else _float(value)  # (sNaN a ValueError)
    if integer:
        return int(number) if number.is_integer() else None  # (NaN and inf are no whole numbers)
    return None if math.isnan(number) else number


def _float(value: object) -> float:
    """A real number as a float; one beyond a float's range as -inf or inf, as 1e400 written as a float is (and a
    Decimal's 1e400): float() raised OverflowError for 10**400 or a Fraction of it, as no setting's check said."""
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:
        return -math.inf if value < 0 else math.inf  # type: ignore[operator]


def shown(value: object) -> str:
    """`value` as every message says it (fast_style.options' too): a number (numpy's, a one-element tensor's) as its
    value, exactly, a whole one without its ".0": 2 for a command line's `--strength 2`, which argparse reads as 2.0
    (one message had said "got 2.0", another "got 2" for it, and "%g" said 1.0000001 as 1: "within 0..1, got 1");
    np.float32(0.1) as 0.1, not its repr. An integer beyond a float's range by its power of ten, 1e+400, as a float's
    is written (the digits of 10**5000 are more than Python writes: a ValueError), a fraction as its float
    (Fraction(10**400)'s repr was its 400 digits); anything else `_briefly`: None, a bool, a short string as
    written, else its kind ("TransformerNet")."""
    plain = element(value)
    if is_bool(plain) or not isinstance(plain, (numbers.Number, Decimal)):
        return _briefly(value)
    try:
        whole = int(operator.index(plain))  # type: ignore[arg-type]
    except TypeError:
        pass
    else:
        return _whole(whole)
    if isinstance(plain, numbers.Rational):  # (a Fraction: no int, by operator.index)
        number = _float(plain)
        return _unpointed(repr(number)) if math.isfinite(number) else _whole(int(plain))  # type: ignore[call-overload]
    if isinstance(plain, (numbers.Real, Decimal)):
        return _unpointed(str(plain))  # (numpy's str is its type's shortest digits: np.float32(0.1) is 0.1)
    return _briefly(value)  # (a complex number)


def _unpointed(text: str) -> str:
    """A float's digits without a whole number's ".0": 2.0 as 2, as it is typed."""
    return text.removesuffix(".0")


def _whole(whole: int) -> str:
    """An integer in digits; one beyond a float's range by its power of ten, 1e+400, as a float's is written."""
    if abs(whole) <= sys.float_info.max:
        return str(whole)
    power = math.floor(math.log10(abs(whole)))
    leading = float(f"{10 ** (math.log10(abs(whole)) - power):.3g}")
    if leading >= 10:  # (9.999e+399 rounded to 3 digits is 1e+400, not "10e+399")
        leading, power = leading / 10, power + 1
    return f"{'-' if whole < 0 else ''}{leading:g}e+{power}"


def _briefly(value: object) -> str:
    """A value that is no real number: None, a bool, a short string (bytes, a complex number) as written, anything
    else by its kind (and shape), as the project's other calls say a value of the wrong type ("not TransformerNet"):
    a network's or a 20x20 tensor's repr is many lines, a long list's hundreds of characters, an object's its
    address."""
    text = repr(value)
    written = value is None or is_bool(value) or isinstance(value, (str, bytes, numbers.Number))
    if written and "\n" not in text and len(text) <= 60:
        return text
    shape = getattr(value, "shape", None)
    return type(value).__name__ + (f" of shape {tuple(shape)}" if shape is not None else "")


def check_number(
    name: str, value: object, within: Callable[[float], bool], takes: str, integer: bool = False
) -> int | float:
    """`value` as Python's int or float (`plain_number`; an int for `integer`) that `within` accepts:
    `weight = check_number("temporal.weight", w, lambda v: v >= 0, "a number >= 0")`. Keep the number it returns.
    As every setting's check (fast_style.options too): TypeError "`name` must be `takes`, not `value`" for a value of
    the wrong type (no real number: a string, None, a bool), UserError "`name` must be `takes`, got `value`" for a
    number it does not take (out of range, NaN, a fraction where a whole number is; 3.0 is taken as 3)."""
    if not is_number(value):
        raise TypeError(f"{name} must be {takes}, not {shown(value)}")
    number = plain_number(value, integer)
    if number is None or not within(number):
        raise UserError(f"{name} must be {takes}, got {shown(value)}")
    return number


def is_number(value: object) -> bool:
    """Whether `value` is of a number's type, whatever its value (NaN too): what `plain_number` takes, or a real
    number it refuses for its value. Anything else given for a number is a TypeError, as a program's mistake; a
    number of the wrong value a UserError (`check_number`)."""
    value = element(value)  # (a real number plain_number refuses, not being a bool, is NaN)
    return plain_number(value) is not None or (isinstance(value, (numbers.Real, Decimal)) and not is_bool(value))
