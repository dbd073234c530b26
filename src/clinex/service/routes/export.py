"""What review produces: reviewed documents as gold JSONL (for `clinex evaluate` and
`clinex train`) or FHIR Bundles, and the agreement between two reviewers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from clinex.core.errors import NotFoundError
from clinex.review import SYSTEM_REVIEWER
from clinex.review.agreement import agreement
from clinex.review.export import gold_record, refuse_open, to_jsonl
from clinex.service.auth import Principal, require
from clinex.service.render import bundle_json
from clinex.service.state import Service, service
from clinex.store import StoredDocument

router = APIRouter(tags=["export"])

Admin = Annotated[Principal, Depends(require("admin"))]
Held = Annotated[Service, Depends(service)]

MEDIA = {"jsonl": "application/x-ndjson", "fhir": "application/fhir+ndjson"}


@router.get("/export")
def export(
    _: Admin,
    held: Held,
    format: Literal["jsonl", "fhir"] = "jsonl",
    documents: Annotated[
        str | None, Query(description="comma-separated ids; default: every reviewed one")
    ] = None,
) -> Response:
    """Reviewed documents, one per line: gold JSONL records (each fact with its document, fact
    and decision ids) or FHIR Bundles. Refused (409) while a review the policy requires is open
    in any document asked for (default: every extracted one). A document is exported once a
    person or the policy decided one of its facts; facts nobody decided are not gold and are
    left out."""
    chosen = _chosen(held, documents)
    refuse_open({doc.id: doc.facts for doc in chosen})
    chosen = [doc for doc in chosen if documents or held.store.decisions(document=doc.id)]
    content = to_jsonl(_exported(held, doc, format) for doc in chosen)
    return Response(content=content, media_type=MEDIA[format])


@router.get("/agreement")
def reviewer_agreement(
    _: Admin,
    held: Held,
    a: str | None = None,
    b: str | None = None,
    documents: Annotated[
        str | None, Query(description="comma-separated ids; default: all both reviewed")
    ] = None,
) -> dict[str, Any]:
    """Agreement between reviewers ``a`` and ``b`` (default: the two who decided most): span F1
    (exact and overlap) and Cohen's kappa per assertion flag, per document and overall, with
    their disagreements side by side."""
    ids = documents.split(",") if documents else held.store.document_ids(status="extracted")
    by_document = {doc_id: held.store.decisions(document=doc_id) for doc_id in ids}
    if a is None or b is None:
        counts: dict[str, int] = {}
        for decisions in by_document.values():
            for decision in decisions:
                if decision.reviewer != SYSTEM_REVIEWER:
                    counts[decision.reviewer] = counts.get(decision.reviewer, 0) + 1
        top = sorted(counts, key=lambda name: (-counts[name], name))
        if len(top) < 2:
            raise NotFoundError("fewer than two reviewers decided on these documents", hint="name a and b")
        a = a or next(name for name in top if name != b)
        b = b or next(name for name in top if name != a)
    return agreement(by_document, a, b)


def _exported(held: Service, doc: StoredDocument, format: str) -> dict[str, Any]:
    decisions = held.store.decisions(document=doc.id)
    if format == "jsonl":
        return gold_record(doc, doc.facts, decisions)
    return bundle_json(doc, decisions)


def _chosen(held: Service, documents: str | None) -> list[StoredDocument]:
    if documents:
        chosen = []
        for doc_id in documents.split(","):
            doc = held.store.document(doc_id)
            if doc is None:
                raise NotFoundError(f"no document {doc_id!r}", hint="list documents with GET /documents")
            chosen.append(doc)
        return chosen
    found = (held.store.document(doc_id) for doc_id in held.store.document_ids(status="extracted"))
    return [doc for doc in found if doc is not None]
