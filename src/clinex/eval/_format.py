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


def by_reason(not_evaluated: dict[str, str]) -> list[tuple[str, list[str]]]:
    """Categories that are not evaluated, grouped by their reason (in first-seen order)."""
    grouped: dict[str, list[str]] = {}
    for name, reason in not_evaluated.items():
        grouped.setdefault(reason, []).append(name)
    return list(grouped.items())


def names(categories: list[str], *, limit: int = 8) -> str:
    """A list of category names, cut after ``limit`` with a count of the rest."""
    shown = ", ".join(categories[:limit])
    return shown if len(categories) <= limit else f"{shown} and {len(categories) - limit} more"


def scope_line(types: tuple[str, ...], types_from: str, all_types: tuple[str, ...]) -> str | None:
    """What the report says about the entity types scored, or None where they are all of them."""
    if types == all_types and types_from == "gold":
        return None
    source = "named by --types" if types_from == "--types" else "the types the gold annotates"
    listed = ", ".join(types) or "none"
    return f"entity types scored: {listed} ({source}); categories over all types (entities) cover these only"
