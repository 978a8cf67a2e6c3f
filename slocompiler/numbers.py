"""Number spelling: clean decimals for native specs, Go's `%g` for Sloth parity, short text, JSON numbers."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction


def clean(value: object) -> str:
    """Shortest exact spelling: 0.001 not 0.0009999999999999432, 6 not 6.0."""
    if isinstance(value, Fraction):
        d = _exact_decimal(value)
        value = d if d is not None else float(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    return str(value)


def short(value: float | Fraction | Decimal) -> str:
    """At most 4 significant digits, for text (`14.4`, `0.9333`)."""
    return f"{float(value):.4g}"


def json_number(value: float | Fraction | Decimal) -> float | int:
    """A JSON number with a clean spelling (0.001, 14.4, 6)."""
    f = float(clean(value))
    return int(f) if f.is_integer() else f


def _exact_decimal(f: Fraction) -> Decimal | None:
    den = f.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    if den != 1:
        return None
    return Decimal(f.numerator) / Decimal(f.denominator)


def go_g(value: float) -> str:
    """Go's strconv.FormatFloat(v, 'g', -1, 64): shortest repr, exponent when exp < -4 or >= 21."""
    if value == 0:
        return "0"
    r = repr(float(value))
    mantissa, _, exp = r.partition("e")
    digits = mantissa.replace("-", "").replace(".", "").lstrip("0")
    if exp:
        e = int(exp)
    else:
        intpart = mantissa.replace("-", "").split(".")[0]
        e = len(intpart.lstrip("0")) - 1 if intpart.lstrip("0") else -(len(mantissa.split(".")[1]) - len(mantissa.split(".")[1].lstrip("0")) + 1)
    digits = digits.rstrip("0") or "0"
    sign = "-" if value < 0 else ""
    if e < -4 or e >= 21:
        m = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{m}e{'-' if e < 0 else '+'}{abs(e):02d}"
    if e < 0:
        return f"{sign}0.{'0' * (-e - 1)}{digits}"
    if len(digits) <= e + 1:
        return f"{sign}{digits}{'0' * (e + 1 - len(digits))}"
    return f"{sign}{digits[:e + 1]}.{digits[e + 1:]}"
