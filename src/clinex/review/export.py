"""Reviewed documents → gold clinex JSONL, the file ``clinex evaluate --gold`` and ``clinex
train`` read.

One record per document::

    {"id", "text", "entities": [...],
     "meta": {"review": {"document", "facts": [{"fact", "decision", "status"}, ...], "reviewers"}}}

``entities`` are the facts the review kept (accepted, corrected, added, auto_accepted), in
position order, each as its last decision left it; a rejected fact is left out, and so is a
pending one (no one, not even the policy, has said it is right). ``meta.review.facts[i]`` is
about ``entities[i]``: its fact id, the id of the decision that left it so (None for none) and
its review status. ``reviewers`` are the people who decided on the document (the review
policy's automatic accepts are marked by their status, not listed as a reviewer). The encoder
trainer keeps a record whose meta holds ``review`` out of its dev scoring (it trains on it), so
a model is never scored on its own training corrections.

Export is refused (ReviewOpenError) while a review the policy requires is open on any of the
documents: gold with an unchecked required fact would teach what no one confirmed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from clinex.core.errors import ReviewOpenError
from clinex.core.serialize import entity_from_dict, entity_to_dict
from clinex.review.model import DecisionRecord, Fact
from clinex.review.policy import open_reviews
from clinex.review.views import reviewers

#: The review statuses whose facts are gold.
KEPT: tuple[str, ...] = ("accepted", "corrected", "added", "auto_accepted")
#: Documents named in a ReviewOpenError before "and N more".
_NAMED = 10


class StoredNote(Protocol):
    """What an export reads of a stored document (clinex.store's StoredDocument)."""

    @property
    def id(self) -> str: ...
    @property
    def text(self) -> str: ...


def gold_record(
    stored_document: StoredNote, facts: Sequence[Fact], decisions: Sequence[DecisionRecord]
) -> dict[str, Any]:
    """The gold JSONL record of one reviewed document (the form is in the module docstring).
    ReviewOpenError while a fact the policy requires a person to decide is still pending."""
    refuse_open({stored_document.id: facts})
    last: dict[str, int] = {}
    for record in sorted(decisions, key=lambda r: r.id):
        last[record.fact] = record.id
    kept = [f for f in sorted(facts, key=lambda f: f.position) if f.review_status in KEPT]
    return {
        "id": stored_document.id,
        "text": stored_document.text,
        # Through the core types: a stored entity that no longer parses fails here, not in training.
        "entities": [entity_to_dict(entity_from_dict(dict(f.entity))) for f in kept],
        "meta": {
            "review": {
                "document": stored_document.id,
                "facts": [
                    {"fact": f.id, "decision": last.get(f.id), "status": f.review_status} for f in kept
                ],
                "reviewers": reviewers(d for d in decisions if d.document == stored_document.id),
            }
        },
    }


def gold_records(
    documents: Iterable[tuple[StoredNote, Sequence[Fact], Sequence[DecisionRecord]]],
) -> list[dict[str, Any]]:
    """The gold records of several documents (``(document, facts, decisions)`` each); every
    document is checked before any record is made, so one ReviewOpenError names them all."""
    items = list(documents)
    refuse_open({doc.id: facts for doc, facts, _ in items})
    return [gold_record(doc, facts, decisions) for doc, facts, decisions in items]


def to_jsonl(records: Iterable[Mapping[str, Any]]) -> str:
    """Records as JSONL text, one a line (UTF-8, not ASCII-escaped)."""
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def refuse_open(facts_by_document: Mapping[str, Sequence[Fact]]) -> None:
    """ReviewOpenError naming how many required reviews are open, and on which documents,
    if any are; never any note text."""
    still = {doc: len(open_reviews(facts)) for doc, facts in facts_by_document.items()}
    still = {doc: n for doc, n in still.items() if n}
    if not still:
        return
    total = sum(still.values())
    named = ", ".join(f"{doc!r} ({n})" for doc, n in list(still.items())[:_NAMED])
    more = f" and {len(still) - _NAMED} more" if len(still) > _NAMED else ""
    raise ReviewOpenError(
        f"export refused: {total} required review(s) still open on {len(still)} document(s): {named}{more}",
        hint="decide every fact the review policy requires (GET /documents?needs_review=true lists them)",
    )
