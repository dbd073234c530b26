"""``POST /jobs`` (JSON notes, a FHIR DocumentReference/Bundle, or one text/plain note) and
``GET /jobs/{id}``."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from clinex.core.errors import EmptyNoteError, FHIRError, InputError, NotFoundError
from clinex.fhir.read import notes_from_fhir
from clinex.inputs import check_patient, decode_note
from clinex.service.auth import Principal, require
from clinex.service.render import job_json
from clinex.service.schemas import MAX_ID_CHARS, JobIn, NoteIn
from clinex.service.state import Service, service
from clinex.store import NewNote

router = APIRouter(tags=["jobs"])


_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "description": '{"notes": [{"id", "text", "patient"?}]}, or a FHIR DocumentReference or '
                    "Bundle of them",
                    "oneOf": [JobIn.model_json_schema(), {"type": "object", "required": ["resourceType"]}],
                }
            },
            "text/plain": {"schema": {"type": "string", "description": "one note; its id in ?id="}},
        },
    }
}


@router.post("/jobs", status_code=202, openapi_extra=_BODY)
async def submit(
    request: Request,
    who: Annotated[Principal, Depends(require("reviewer"))],
    held: Annotated[Service, Depends(service)],
    id: Annotated[str | None, Query(max_length=MAX_ID_CHARS, description="text/plain: the note's id")] = None,
) -> JSONResponse:
    """Store the notes as one job and answer its id at once; extraction runs in the background.
    Every note is checked first (empty text, a malformed Patient, a taken id): one bad note
    refuses the whole job and nothing is stored."""
    body = await request.body()
    if request.headers.get("content-type", "").startswith("text/plain"):
        if not id:
            raise InputError("a text/plain note needs its id: POST /jobs?id=...", hint="or send JSON notes")
        notes = [NewNote(id=id, text=decode_note(body, source=f"note {id!r}"))]
    else:
        notes = _json_notes(body)
    for note in notes:
        if not note.text.strip():
            raise EmptyNoteError(f"note {note.id!r} holds no text", hint="leave out empty notes")
        if note.patient is not None:
            check_patient(note.patient, note_id=note.id)
    job_id = await run_in_threadpool(
        held.store.submit, notes, options={"extractor": held.extractor}, actor=who.name
    )
    held.runner.wake()
    return JSONResponse(status_code=202, content={"job_id": job_id, "documents": [n.id for n in notes]})


@router.get("/jobs/{job_id}")
def job(
    job_id: str,
    _: Annotated[Principal, Depends(require("reviewer"))],
    held: Annotated[Service, Depends(service)],
) -> dict[str, Any]:
    found = held.store.job(job_id)
    if found is None:
        raise NotFoundError(f"no job {job_id!r}", hint="use the job_id POST /jobs answered")
    return job_json(found)


def _json_notes(raw: bytes) -> list[NewNote]:
    try:
        body = json.loads(raw)
    except ValueError:
        raise InputError(
            "the request body is not JSON", hint='send {"notes": [...]}, FHIR JSON, or text/plain with ?id='
        ) from None
    if isinstance(body, dict) and "resourceType" in body:
        return _fhir_notes(body)
    try:
        request = JobIn.model_validate(body)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
    return [_new(note) for note in request.notes]


def _new(note: NoteIn) -> NewNote:
    return NewNote(id=note.id, text=note.text, patient=note.patient)


def _fhir_notes(resource: dict[str, Any]) -> list[NewNote]:
    notes = []
    for found in notes_from_fhir(resource, source="request body"):
        if isinstance(found, FHIRError):
            raise found
        if found.id is None:
            raise FHIRError(
                f"request body {found.where}: the DocumentReference has no id or identifier",
                hint="give each DocumentReference an id: the review service stores notes by id",
            )
        notes.append(NewNote(id=found.id, text=found.text, patient=found.patient))
    return notes
