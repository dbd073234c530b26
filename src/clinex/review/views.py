"""Per-reviewer views of a document's review, rebuilt from its decisions.

Reviewers share one version chain per fact (a decision applies to the fact as the last decision,
by anyone, left it), so the stored facts are the outcome of everyone's decisions together. A
reviewer's own judgement is what their decisions said: the facts they decided, each as their
last decision on it left it (an accept endorses the fact as it stood then, a correction as
corrected), those they rejected dropped, those they added included. A fact a reviewer never
touched says nothing about their judgement, so it is not in their view.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clinex.review.model import SYSTEM_REVIEWER, DecisionRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewerView:
    """What one reviewer decided on one document.

    ``facts``: fact id → the entity (JSONL form) as this reviewer's last decision left it, for
    every fact they kept (accepted, corrected, added); ``actions``: fact id → the action of their
    last decision on it, for every fact they decided (``reject`` included); ``added``: the
    facts they added."""

    reviewer: str
    document: str
    facts: Mapping[str, Mapping[str, Any]]
    actions: Mapping[str, str]
    added: frozenset[str]

    @property
    def decided(self) -> frozenset[str]:
        """The facts this reviewer decided (any action)."""
        return frozenset(self.actions)


def reviewer_view(decisions: Iterable[DecisionRecord], reviewer: str, *, document: str) -> ReviewerView:
    """The view of ``reviewer`` on ``document`` from its decisions (others' and other documents'
    decisions are skipped). Decisions are taken in the order they were stored (by id)."""
    facts: dict[str, Mapping[str, Any]] = {}
    actions: dict[str, str] = {}
    added: set[str] = set()
    for record in sorted(decisions, key=lambda r: r.id):
        if record.reviewer != reviewer or record.document != document:
            continue
        actions[record.fact] = record.action
        if record.action == "add":
            added.add(record.fact)
        if record.action == "reject" or record.after is None:
            facts.pop(record.fact, None)
        else:
            facts[record.fact] = record.after
    return ReviewerView(
        reviewer=reviewer, document=document, facts=facts, actions=actions, added=frozenset(added)
    )


def reviewers(decisions: Iterable[DecisionRecord], *, system: bool = False) -> list[str]:
    """The reviewers who decided, in the order of their first decision; the review policy's
    automatic decisions (SYSTEM_REVIEWER) only when ``system`` is true."""
    seen: dict[str, None] = {}
    for record in sorted(decisions, key=lambda r: r.id):
        if system or record.reviewer != SYSTEM_REVIEWER:
            seen.setdefault(record.reviewer, None)
    return list(seen)


def views_by_reviewer(decisions: Sequence[DecisionRecord], *, document: str) -> dict[str, ReviewerView]:
    """Every person's view of ``document`` (the review policy's decisions left out)."""
    own = [record for record in decisions if record.document == document]
    return {name: reviewer_view(own, name, document=document) for name in reviewers(own)}
