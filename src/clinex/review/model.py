"""A reviewer's decision on one fact of a Document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["accept", "reject", "correct", "add"]
ACTIONS: tuple[str, ...] = ("accept", "reject", "correct", "add")
#: The fields of a fact a correction may change (``add`` gives a whole fact in these fields).
CORRECTABLE: tuple[str, ...] = ("type", "start", "end", "text", "code", "assertion", "attributes")


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """One decision: ``accept``/``reject``/``correct`` the fact at ``index`` of a Document's
    entities, or ``add`` a fact the extractor missed. ``changes`` holds the corrected fields
    (or the new fact) in the JSONL form of DESIGN.md; ``reviewer`` is who decided."""

    action: Action
    reviewer: str
    index: int | None = None
    changes: Mapping[str, Any] = field(default_factory=dict)
    comment: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}, got {self.action!r}")
        if not self.reviewer.strip():
            raise ValueError("a decision needs a reviewer")
        if (self.index is None) != (self.action == "add"):
            raise ValueError("add takes no index; accept, reject and correct take the fact's index")
        unknown = sorted(set(self.changes) - set(CORRECTABLE))
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; a decision may change {', '.join(CORRECTABLE)}")
        if self.action in ("accept", "reject") and self.changes:
            raise ValueError(f"{self.action} changes no field; use correct")
