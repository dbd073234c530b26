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


ReviewStatus = Literal["pending", "accepted", "rejected", "corrected", "added", "auto_accepted"]
REVIEW_STATUSES: tuple[str, ...] = ("pending", "accepted", "rejected", "corrected", "added", "auto_accepted")
#: The review status a decision leaves a fact in.
STATUS_AFTER: Mapping[str, str] = {
    "accept": "accepted",
    "reject": "rejected",
    "correct": "corrected",
    "add": "added",
}
#: The reviewer name of decisions the review policy makes (auto-accept).
SYSTEM_REVIEWER = "system:review-policy"


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    """A stored fact of a reviewed document: the entity as it stands now (``entity`` is its
    JSONL form, DESIGN.md), its ``version`` (1 when extracted, +1 per decision: the ETag),
    where it stands in review, and whether the review policy requires a person to decide it
    (``required``, with the policy's ``reason``). ``position`` orders a document's facts; it
    never changes, so a rejected fact keeps its place (FHIR resource ids stay stable)."""

    id: str
    document: str
    position: int
    version: int
    entity: Mapping[str, Any]
    review_status: str = "pending"
    origin: Literal["extracted", "reviewer"] = "extracted"
    required: bool = False
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRecord:
    """A stored decision: who did what to which fact, when (ISO 8601 UTC), the fact's entity
    before and after (None before an add, after a reject), and the version it left."""

    id: int
    fact: str
    document: str
    reviewer: str
    action: str
    at: str
    version: int
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    comment: str | None = None
