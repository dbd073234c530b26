"""Stored records as the JSON the API answers (the shapes of the README's API section)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from clinex.fhir.review import reviewed_bundle
from clinex.review import DecisionRecord, Fact
from clinex.store import AuditRecord, DocumentSummary, Job, StoredDocument


def decision_json(decision: DecisionRecord) -> dict[str, Any]:
    return {
        "id": decision.id,
        "fact": decision.fact,
        "reviewer": decision.reviewer,
        "action": decision.action,
        "at": decision.at,
        "version": decision.version,
        "comment": decision.comment,
    }


def fact_json(fact: Fact, decisions: Sequence[DecisionRecord] = ()) -> dict[str, Any]:
    """A fact: its entity fields (JSONL form), version (the ETag), review state, and the
    decisions made on it so far (who decided what before this reviewer)."""
    return {
        "id": fact.id,
        "document": fact.document,
        "version": fact.version,
        **dict(fact.entity),
        "review_status": fact.review_status,
        "review_required": fact.required,
        "review_reason": fact.reason,
        "origin": fact.origin,
        "decisions": [decision_json(d) for d in decisions if d.fact == fact.id],
    }


def document_json(doc: StoredDocument, decisions: Sequence[DecisionRecord]) -> dict[str, Any]:
    open_required = sum(1 for f in doc.facts if f.required and f.review_status == "pending")
    return {
        "id": doc.id,
        "text": doc.text,
        "status": doc.status,
        "patient": doc.patient,
        "meta": doc.meta,
        "job": doc.job,
        "created_at": doc.created_at,
        "error": doc.error,
        "facts": [fact_json(fact, decisions) for fact in doc.facts],
        "review": {
            "required_open": open_required,
            "pending": sum(1 for f in doc.facts if f.review_status == "pending"),
            "reviewers": sorted({d.reviewer for d in decisions}),
        },
    }


def job_json(job: Job) -> dict[str, Any]:
    return {
        "job_id": job.id,
        "status": job.status,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "documents": list(job.documents),
        "done": job.done,
        "failed": job.failed,
        "errors": list(job.errors),
    }


def summary_json(summary: DocumentSummary) -> dict[str, Any]:
    return dataclasses.asdict(summary)


def audit_json(record: AuditRecord) -> dict[str, Any]:
    return dataclasses.asdict(record)


def bundle_json(
    doc: StoredDocument, decisions: Sequence[DecisionRecord], *, bundle_type: str = "collection"
) -> dict[str, Any]:
    """The reviewed FHIR Bundle of a stored document (clinex.fhir.review)."""
    return reviewed_bundle(
        document_id=doc.id,
        text=doc.text,
        patient=doc.patient,
        meta=doc.meta,
        facts=doc.facts,
        decisions=decisions,
        bundle_type=bundle_type,
    )
