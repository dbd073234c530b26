"""Number formatting shared by the terminal and HTML reports."""

from __future__ import annotations

from clinex.eval.bootstrap import Interval


def number(value: float | None, digits: int = 3) -> str:
    """A metric with fixed digits; an undefined one as an em dash."""
    return "—" if value is None else f"{value:.{digits}f}"


def interval(value: Interval | None) -> str:
    return "" if value is None else f"[{value[0]:.3f}, {value[1]:.3f}]"


def p_value(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"
