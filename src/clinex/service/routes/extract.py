"""``POST /extract``: one note extracted while the caller waits, nothing stored — for systems
that want facts, not review. Bounded: a slot per running extraction (429 with Retry-After when
all are taken) and a time limit per note (504)."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from clinex.inputs import check_patient
from clinex.service.auth import Principal, require
from clinex.service.schemas import ExtractIn
from clinex.service.state import Service, service

router = APIRouter(tags=["extract"])


@router.post("/extract")
def extract_note(
    request: ExtractIn,
    _: Annotated[Principal, Depends(require("reviewer"))],
    held: Annotated[Service, Depends(service)],
) -> dict[str, Any]:
    if request.patient is not None:
        check_patient(request.patient, note_id=request.id)
    with held.slots.acquire():
        doc = held.pool.run(
            request.text, id=request.id, patient=request.patient, timeout_s=held.settings.extraction_timeout_s
        )
    if request.min_confidence > 0:
        doc = replace(doc, entities=[e for e in doc.entities if e.confidence >= request.min_confidence])
    if request.format == "jsonl":
        return doc.to_dict()
    return doc.to_fhir(bundle_type=request.bundle_type)
