"""Number formats: the one place where the dashboard decides how a number is written, in Python
(captions, tables, tooltips written in Python) and in Vega (chart axes and legends), so a page and
its charts write the same value the same way.

- ``number(v)`` / ``label_expr()``: the general rule, used by every numeric axis and legend whose
  values span decades (importances, Imp(l, i), gradients): 0 is "0"; 0.1 <= |v| < 10,000 in
  decimals with ``digits`` significant digits, trailing zeros dropped ("0.5", "2.5", "150");
  otherwise scientific with a short exponent ("2e-4", "2.5e-4", "1.2e5"): never "0.0e+0", never a
  "+" or a leading zero in an exponent. ``label_expr`` is the same rule as a Vega expression, for
  ``alt.Axis(labelExpr=...)`` and ``alt.Legend(labelExpr=...)`` (tests/test_format.py renders it
  with Vega and compares it with ``number``).
- ``fmt(v, quantity)``: text of one quantity (importance, product, score: three significant digits
  in scientific notation, "6.83e-5", so values of one table compare at a glance; p, z: two
  decimals). ``FORMATS``: the d3 format of each quantity, for tooltips Vega formats itself.
- ``nobreak``: a number that must not wrap at its exponent in a narrow column of Markdown.
"""

from __future__ import annotations

import math

import altair as alt

__all__ = ["FORMATS", "SCI_QUANTITIES", "axis", "fmt", "label_expr", "legend", "nobreak", "number"]

FORMATS = {"importance": ".2e", "product": ".2e", "score": ".2e", "p": ".2f", "z": ".2f", "value": ".3~g"}
"""One d3 number format per quantity, for tooltips: importances (and their products, scores, and
gradients) in scientific notation with 3 significant digits (e.g. 6.83e-5: the values span several
decades, from 1e-7 to 1e-1 across models and outputs); probabilities and overlaps (p_e, eps) with 2
decimals; normalised inputs (z) with 2 decimals; any other value (a pixel, a weight) with 3
significant digits."""
SCI_QUANTITIES = ("importance", "product", "score")

DECIMAL_RANGE = (0.1, 10_000.0)
"""|v| in [lo, hi) is written in decimals by ``number``; outside, in scientific notation."""


def _short_exponent(text: str) -> str:
    """'2.50e-05' / '1.2e+05' (Python) -> '2.50e-5' / '1.2e5'."""
    mant, _, exp = text.partition("e")
    return f"{mant}e{int(exp)}"


def number(value: float, digits: int = 2) -> str:
    """``value`` by the general rule (module doc) with ``digits`` significant digits."""
    v = float(value)
    if v == 0:
        return "0"
    if not math.isfinite(v):
        return str(v)
    lo, hi = DECIMAL_RANGE
    rounded = float(f"{v:.{digits}g}")
    if lo <= abs(rounded) < hi:
        text = f"{rounded:.{max(digits - 1 - math.floor(math.log10(abs(rounded))), 0)}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    mant, _, exp = f"{v:.{digits - 1}e}".partition("e")
    mant = mant.rstrip("0").rstrip(".") if "." in mant else mant
    return f"{mant}e{int(exp)}"


def label_expr(digits: int = 2, value: str = "datum.value") -> str:
    """The rule of ``number`` as a Vega expression of ``value`` (axis and legend labels)."""
    lo, hi = DECIMAL_RANGE
    v = value
    sci = f"replace(format({v}, '.{digits - 1}~e'), 'e+', 'e')"
    dec = f"format({v}, '.{digits}~r')"
    # the decision on the value rounded to its digits, as number() does (9999.7 -> 1e4, not 10000)
    r = f"toNumber(format(abs({v}), '.{digits}r'))"
    return f"{v} == 0 ? '0' : ({r} >= {lo} && {r} < {hi:.0f}) ? {dec} : {sci}"


def axis(digits: int = 2, **kwargs) -> alt.Axis:
    """A numeric axis labelled by ``number``'s rule (``kwargs``: any other ``alt.Axis`` property)."""
    return alt.Axis(labelExpr=label_expr(digits), **kwargs)


def legend(digits: int = 2, **kwargs) -> alt.Legend:
    """A legend of a numeric scale labelled by ``number``'s rule."""
    return alt.Legend(labelExpr=label_expr(digits), **kwargs)


def fmt(value: float, quantity: str) -> str:
    """A number written as ``FORMATS[quantity]`` writes it, with a short exponent (Python side, for
    captions, tables and tooltips written in Python)."""
    v = float(value)
    if not math.isfinite(v):
        return str(v)
    if quantity in SCI_QUANTITIES:
        return "0" if v == 0 else _short_exponent(f"{v:.2e}")
    return f"{v:.2f}"


def nobreak(text: str) -> str:
    """``text`` with its hyphens made non-breaking (U+2011), so that '1.96e-5' never wraps at the
    exponent in a narrow column of Markdown."""
    return text.replace("-", "\u2011")
