"""How the service answers an error: ``{"error": {"code", "message", "hint"}}`` with the HTTP
status of the error's class (:data:`STATUS`), plus ``nearest`` (codes) on an unknown code
(a stale decision's ``current`` fact is added by its route). Messages never hold note text."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from clinex.core.errors import (
    AuthenticationError,
    BackendError,
    BodyTooLargeError,
    ClinexError,
    ConfigError,
    ConflictError,
    ContextLengthError,
    EmptyNoteError,
    ExtractionTimeoutError,
    FHIRError,
    InputError,
    InternalError,
    ModelError,
    NotFoundError,
    OutputParseError,
    PermissionDeniedError,
    ReviewOpenError,
    StaleVersionError,
    TerminologyError,
    TooBusyError,
    UnknownCodeError,
    UnknownNameError,
)

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
    NotFoundError: 404,
    ConflictError: 409,
    StaleVersionError: 409,
    ReviewOpenError: 409,
    UnknownCodeError: 422,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    BodyTooLargeError: 413,
    TooBusyError: 429,
    ExtractionTimeoutError: 504,
    ClinexError: 500,
}


def status_of(error: ClinexError) -> int:
    """The HTTP status for ``error`` (:data:`STATUS`)."""
    return next(STATUS[cls] for cls in type(error).__mro__ if cls in STATUS)


def error_body(error: ClinexError) -> dict[str, Any]:
    return {"error": {"code": error.code, "message": error.message, "hint": error.hint}}


class Refused(Exception):
    """A clinex error answered with another status than its class's (e.g. a bad corrected span
    is the caller's input, but a 422 on a decision, naming the field)."""

    def __init__(self, status: int, error: ClinexError) -> None:
        super().__init__(error.message)
        self.status = status
        self.error = error


@contextmanager
def unprocessable() -> Iterator[None]:
    """Answer an InputError raised inside as 422: the request was well-formed JSON, but what it
    asks for does not fit the note (a span outside it or not holding the text)."""
    try:
        yield
    except InputError as exc:
        raise Refused(422, exc) from None


def _response(status: int, error: ClinexError) -> JSONResponse:
    body = error_body(error)
    headers = {}
    if isinstance(error, UnknownCodeError):
        body["nearest"] = error.nearest
    if isinstance(error, TooBusyError):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, AuthenticationError):
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(status_code=status, content=body, headers=headers)


def install(app: FastAPI, *, shape_hint: str) -> None:
    """The error handlers of the service: clinex errors, refusals, and malformed requests (whose
    FastAPI default would echo the input — the note — back; these name the fields only)."""

    @app.exception_handler(ClinexError)
    async def clinex_error(_: Request, exc: ClinexError) -> JSONResponse:
        return _response(status_of(exc), exc)

    @app.exception_handler(Refused)
    async def refused(_: Request, exc: Refused) -> JSONResponse:
        return _response(exc.status, exc.error)

    @app.exception_handler(RequestValidationError)
    async def shape_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()]
        return _response(422, InputError("; ".join(problems), hint=shape_hint))
