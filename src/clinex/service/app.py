"""The HTTP service: extraction over JSON, for systems that cannot call Python.

``POST /extract`` takes ``{"id", "text", "extractor", "format", "min_confidence"}`` and answers
the JSONL record of DESIGN.md (``format="jsonl"``) or a FHIR R4 Bundle (``format="fhir"``, the
default).
Errors come back as ``{"error": {"code", "message", "hint"}}`` with status 400 (the caller's
input) or 422 (request shape); note text is never logged.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from clinex import __version__
from clinex.core.errors import ClinexError
from clinex.core.registry import extractors
from clinex.pipeline import extract

#: Notes larger than this are refused: a service should not hold unbounded bodies in memory.
MAX_NOTE_CHARS = 5_000_000


class ExtractRequest(BaseModel):
    text: str = Field(description="The note, as UTF-8 text.", max_length=MAX_NOTE_CHARS)
    id: str = Field(default="note", description="The note's id, echoed in the output.")
    extractor: str | None = Field(default=None, description="Registry name; default: clinex's default.")
    format: Literal["fhir", "jsonl"] = Field(default="fhir", description="Output form.")
    bundle_type: Literal["collection", "transaction"] = "collection"
    patient: dict[str, Any] | None = Field(default=None, description="A FHIR Patient resource.")
    min_confidence: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Leave out entities less confident than this."
    )


def create_app() -> FastAPI:
    """A new FastAPI application (one per server; tests make their own)."""
    app = FastAPI(title="clinex", version=__version__)

    @app.exception_handler(ClinexError)
    async def clinex_error(_: Any, exc: ClinexError) -> JSONResponse:
        return JSONResponse(
            status_code=400, content={"error": {"code": exc.code, "message": exc.message, "hint": exc.hint}}
        )

    @app.exception_handler(RequestValidationError)
    async def shape_error(_: Any, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default echoes the offending input (the note) back; name the fields only.
        problems = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        return JSONResponse(
            status_code=422, content={"error": {"code": "E100", "message": "; ".join(problems)}}
        )

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "extractors": extractors.base_names()}

    @app.post("/extract")
    def extract_note(request: ExtractRequest) -> dict[str, Any]:
        doc = extract(
            request.text,
            extractor=request.extractor,
            id=request.id,
            patient=request.patient,
            min_confidence=request.min_confidence,
        )
        if request.format == "jsonl":
            return doc.to_dict()
        return doc.to_fhir(bundle_type=request.bundle_type)

    return app
