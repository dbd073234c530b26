"""Documents: the review queue, one document with its facts, its reviewed FHIR Bundle, its audit
trail, and a fact a reviewer adds. Every read of a document is recorded in the audit trail."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from clinex.core.errors import NotFoundError
from clinex.fhir.review import audit_event
from clinex.review import codes
from clinex.service.auth import Principal, require
from clinex.service.errors import unprocessable
from clinex.service.render import (
    audit_json,
    bundle_json,
    decision_json,
    document_json,
    fact_json,
    summary_json,
)
from clinex.service.schemas import NewFactIn
from clinex.service.state import Service, service
from clinex.store import StoredDocument

router = APIRouter(tags=["documents"])

Reviewer = Annotated[Principal, Depends(require("reviewer"))]
Admin = Annotated[Principal, Depends(require("admin"))]
Held = Annotated[Service, Depends(service)]


@router.get("/documents")
def documents(
    _: Reviewer,
    held: Held,
    status: Literal["queued", "extracted", "failed"] | None = None,
    reviewer: str | None = None,
    type: str | None = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    needs_review: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    """The review queue: documents with the least confident fact first."""
    found = held.store.documents(
        status=status,
        reviewer=reviewer,
        type=type,
        min_confidence=min_confidence,
        max_confidence=max_confidence,
        needs_review=needs_review,
        limit=limit,
        offset=offset,
    )
    return {"documents": [summary_json(summary) for summary in found]}


@router.get("/documents/{doc_id}")
def document(doc_id: str, who: Reviewer, held: Held) -> dict[str, Any]:
    doc = _stored(held, doc_id)
    held.store.record_access(doc_id, actor=who.name, what="document")
    return document_json(doc, held.store.decisions(document=doc_id))


@router.get("/documents/{doc_id}/fhir")
def document_fhir(
    doc_id: str, who: Reviewer, held: Held, bundle_type: Literal["collection", "transaction"] = "collection"
) -> dict[str, Any]:
    """The document as a FHIR R4 Bundle, each fact's resource marked by its review and one
    Provenance per decision."""
    doc = _stored(held, doc_id)
    held.store.record_access(doc_id, actor=who.name, what="fhir")
    return bundle_json(doc, held.store.decisions(document=doc_id), bundle_type=bundle_type)


@router.get("/documents/{doc_id}/audit")
def document_audit(
    doc_id: str, _: Admin, held: Held, format: Literal["json", "fhir"] = "json"
) -> dict[str, Any]:
    """The audit rows about one document (extraction, decisions, refused decisions, reads); as
    ``format=fhir``, a Bundle of an AuditEvent per read."""
    _stored(held, doc_id)
    rows = held.store.audit(document=doc_id)
    if format == "fhir":
        events = [audit_event(row) for row in rows if row.action.startswith("access:")]
        return {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"fullUrl": f"urn:uuid:{e['id']}", "resource": e} for e in events],
        }
    return {"records": [audit_json(row) for row in rows]}


@router.post("/documents/{doc_id}/facts", status_code=201)
def add_fact(doc_id: str, body: NewFactIn, who: Reviewer, held: Held) -> JSONResponse:
    """Add a fact the extractor missed; its span must hold its text in the note."""
    _stored(held, doc_id)
    entity = body.model_dump(exclude={"comment"}, exclude_none=True)
    if body.code is not None:
        codes.check(entity["code"])
    with unprocessable():
        fact, decision = held.store.add_fact(doc_id, entity=entity, reviewer=who.name, comment=body.comment)
    return JSONResponse(
        status_code=201,
        content={"fact": fact_json(fact, [decision]), "decision": decision_json(decision)},
        headers={"ETag": f'"{fact.version}"'},
    )


def _stored(held: Service, doc_id: str) -> StoredDocument:
    doc = held.store.document(doc_id)
    if doc is None:
        raise NotFoundError(f"no document {doc_id!r}", hint="list documents with GET /documents")
    return doc
