"""The HTTP service: extraction over JSON, for systems that cannot call Python.

``POST /extract`` takes ``{"id", "text", "extractor", "format", "bundle_type", "patient",
"min_confidence"}`` (any other field is refused) and answers the JSONL record of DESIGN.md
(``format="jsonl"``) or a FHIR R4 Bundle (``format="fhir"``, the default).

``GET /health`` answers 200 ``{"status": "ok", ...}`` once the default extractor is loaded (it
loads in the background from startup), and 503 with ``"loading"`` before, or ``"error"`` and
the error if it could not be loaded.

Errors come back as ``{"error": {"code", "message", "hint"}}``, with the status of
:data:`STATUS` for clinex's errors (the caller's input 400, an LLM backend 502, the server's
model or a bug 500) and 422 for a request of the wrong shape; note text is never logged or
echoed.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from clinex import __version__
from clinex.core.errors import (
    BackendError,
    ClinexError,
    ConfigError,
    ContextLengthError,
    EmptyNoteError,
    FHIRError,
    InputError,
    InternalError,
    ModelError,
    OutputParseError,
    TerminologyError,
    UnknownNameError,
)
from clinex.core.extractor import Extractor
from clinex.core.registry import extractors
from clinex.inputs import check_patient
from clinex.pipeline import DEFAULT_EXTRACTOR, extract, load_extractor

#: Notes larger than this are refused: a service should not hold unbounded bodies in memory.
MAX_NOTE_CHARS = 5_000_000

#: The HTTP status of each error class; a subclass not listed takes its nearest listed base's.
STATUS: dict[type[ClinexError], int] = {
    InputError: 400,
    EmptyNoteError: 400,
    ConfigError: 400,
    UnknownNameError: 400,
    FHIRError: 400,
    ContextLengthError: 413,  # the note does not fit the model: the caller may split it
    BackendError: 502,
    OutputParseError: 502,
    ModelError: 500,
    TerminologyError: 500,
    InternalError: 500,
    ClinexError: 500,
}


def status_of(error: ClinexError) -> int:
    """The HTTP status for ``error`` (:data:`STATUS`)."""
    return next(STATUS[cls] for cls in type(error).__mro__ if cls in STATUS)


class ExtractRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The note, as UTF-8 text.", max_length=MAX_NOTE_CHARS)
    id: str = Field(default="note", description="The note's id, echoed in the output.")
    extractor: str | None = Field(default=None, description="Registry name; default: the server's.")
    format: Literal["fhir", "jsonl"] = Field(default="fhir", description="Output form.")
    bundle_type: Literal["collection", "transaction"] = "collection"
    patient: dict[str, Any] | None = Field(default=None, description="A FHIR Patient resource.")
    min_confidence: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Leave out entities less confident than this."
    )


_SHAPE_HINT = (
    "send a JSON object with 'text' and optionally "
    + ", ".join(repr(name) for name in ExtractRequest.model_fields if name != "text")
    + " (see /docs)"
)


class DefaultExtractor:
    """The server's default extractor, loaded once in the background; requests wait for it."""

    def __init__(self, name: str | None) -> None:
        self.name = extractors.resolve(name or DEFAULT_EXTRACTOR)  # a wrong name fails at startup
        self._loaded = threading.Event()
        self._extractor: Extractor | None = None
        self._error: ClinexError | None = None

    def load(self) -> None:
        try:
            self._extractor = load_extractor(self.name)
        except ClinexError as exc:
            self._error = exc
        except Exception as exc:
            self._error = InternalError(
                f"extractor {self.name} failed to load ({type(exc).__name__})",
                hint="this is a bug; please report it with the extractor name and exception type",
            )
        finally:
            self._loaded.set()

    @property
    def status(self) -> Literal["loading", "ok", "error"]:
        if not self._loaded.is_set():
            return "loading"
        return "error" if self._error is not None else "ok"

    @property
    def error(self) -> ClinexError | None:
        return self._error

    def get(self) -> Extractor:
        """The extractor, once loaded (waits); its load error if it failed."""
        self._loaded.wait()
        if self._error is not None:
            raise self._error
        assert self._extractor is not None
        return self._extractor


def _error_body(error: ClinexError) -> dict[str, Any]:
    return {"error": {"code": error.code, "message": error.message, "hint": error.hint}}


def create_app(*, extractor: str | None = None) -> FastAPI:
    """A new FastAPI application (one per server; tests make their own).

    ``extractor`` is the default for requests that name none (UnknownNameError now if there is
    no such extractor); it is loaded in the background once the server starts.
    """
    default = DefaultExtractor(extractor)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=default.load, name="clinex-load-extractor", daemon=True).start()
        yield

    app = FastAPI(title="clinex", version=__version__, lifespan=lifespan)

    @app.exception_handler(ClinexError)
    async def clinex_error(_: Any, exc: ClinexError) -> JSONResponse:
        return JSONResponse(status_code=status_of(exc), content=_error_body(exc))

    @app.exception_handler(RequestValidationError)
    async def shape_error(_: Any, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's default echoes the offending input (the note) back; name the fields only.
        problems = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        error = InputError("; ".join(problems), hint=_SHAPE_HINT)
        return JSONResponse(status_code=422, content=_error_body(error))

    @app.get("/health")
    def health() -> JSONResponse:
        body: dict[str, Any] = {
            "status": default.status,
            "version": __version__,
            "extractor": default.name,
            "extractors": extractors.base_names(),
        }
        if default.error is not None:
            body |= _error_body(default.error)
        return JSONResponse(status_code=200 if default.status == "ok" else 503, content=body)

    @app.post("/extract")
    def extract_note(request: ExtractRequest) -> dict[str, Any]:
        if request.patient is not None and request.format == "fhir":
            check_patient(request.patient, note_id=request.id)
        named = request.extractor
        engine = default.get() if named is None or extractors.resolve(named) == default.name else named
        doc = extract(
            request.text,
            extractor=engine,
            id=request.id,
            patient=request.patient,
            min_confidence=request.min_confidence,
        )
        if request.format == "jsonl":
            return doc.to_dict()
        return doc.to_fhir(bundle_type=request.bundle_type)

    return app
