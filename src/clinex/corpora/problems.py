"""Collecting bad input lines so one error can name the first few of them."""

from __future__ import annotations

from clinex.core.errors import EvaluationError

#: How many offending lines an error message lists.
SHOWN = 5


class Problems:
    """Offending locations (``file:line``) and why, raised together as one EvaluationError."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.items: list[str] = []

    def add(self, location: str, reason: str) -> None:
        self.items.append(f"{location} ({reason})")

    def raise_if_any(self, *, hint: str) -> None:
        if self.items:
            first = "; ".join(self.items[:SHOWN])
            more = f" and {len(self.items) - SHOWN} more" if len(self.items) > SHOWN else ""
            raise EvaluationError(f"{len(self.items)} problem(s) in {self.what}: {first}{more}", hint=hint)
