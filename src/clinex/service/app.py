"""The review service: extraction jobs, review of their facts, export, and the review UI.

``create_app(settings)`` builds one FastAPI application per server (tests make their own). It
opens the store at once (migrating it to the current schema), and at startup starts the
extraction workers (child processes that load the extractor once) and the job runner; a job
left running by a stopped server is put back in the queue and finished.

Every route but ``/health`` and ``/ready`` needs an API key (``Authorization: Bearer KEY``,
made with ``clinex keys create``); the OpenAPI document is at ``/openapi.json`` behind a key
too. Bodies above ``max_body_bytes`` are refused with 413 before they are read; CORS is off
unless origins are configured. Errors: :mod:`clinex.service.errors`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from clinex import __version__
from clinex.core.registry import extractors
from clinex.service import errors
from clinex.service.auth import Principal, require
from clinex.service.extraction import WorkerPool
from clinex.service.jobs import JobRunner
from clinex.service.limits import BodyLimit, ExtractionSlots
from clinex.service.routes import documents, export, extract, facts, jobs, terminology, ui
from clinex.service.settings import ServiceSettings
from clinex.service.state import Service
from clinex.store import open_store

_SHAPE_HINT = "check the request against the API (GET /openapi.json with a key, or the README)"


def create_app(settings: ServiceSettings | None = None, *, plugins: dict[str, str] | None = None) -> FastAPI:
    """A new application for ``settings`` (default: :class:`ServiceSettings`' defaults).

    ``plugins`` registers extractors in the worker processes (``"name.v1"`` →
    ``"module:attribute"``) for an extractor that is not an installed plugin. An unknown
    extractor name or a bad review policy raises here, before anything starts.
    """
    settings = settings or ServiceSettings()
    policy = settings.policy
    name = (
        settings.extractor
        if plugins and settings.extractor in plugins
        else extractors.resolve(settings.extractor)
    )
    store = open_store(settings.db)
    pool = WorkerPool(settings.workers, name, calibration=settings.calibration, plugins=plugins)
    held = Service(
        settings=settings,
        policy=policy,
        extractor=name,
        store=store,
        pool=pool,
        slots=ExtractionSlots(settings.workers + settings.queue, retry_after=settings.retry_after_s),
        runner=JobRunner(
            store, pool, policy=policy, timeout_s=settings.extraction_timeout_s, parallel=settings.workers
        ),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        pool.start()
        held.runner.start()
        try:
            yield
        finally:
            held.runner.stop()
            held.runner.join(5)
            pool.close()  # cuts short a note still extracting; it stays queued for the next start
            held.runner.join()
            store.close()

    app = FastAPI(
        title="clinex review service",
        version=__version__,
        lifespan=lifespan,
        openapi_url=None,  # served behind a key below
        docs_url=None,
        redoc_url=None,
    )
    app.state.service = held
    app.state.store = store  # the key lookup of clinex.service.auth
    errors.install(app, shape_hint=_SHAPE_HINT)
    for router in (
        jobs.router,
        documents.router,
        facts.router,
        export.router,
        terminology.router,
        extract.router,
    ):
        app.include_router(router)
    app.include_router(ui.router)
    app.mount("/ui/static", StaticFiles(directory=str(ui.STATIC)), name="ui-static")

    @app.get("/health", tags=["status"])
    def health() -> dict[str, Any]:
        """The server is alive (it says nothing of the model: see /ready)."""
        return {"status": "ok", "version": __version__}

    @app.get("/ready", tags=["status"])
    def ready() -> JSONResponse:
        """200 once every extraction worker has loaded the model; 503 while loading or failed."""
        state = "ok" if pool.ready else "error" if pool.load_error is not None else "loading"
        body: dict[str, Any] = {"status": state, "version": __version__, "extractor": name}
        if pool.load_error is not None:
            body |= errors.error_body(pool.load_error)
        return JSONResponse(status_code=200 if state == "ok" else 503, content=body)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(_: Annotated[Principal, Depends(require("reviewer"))]) -> dict[str, Any]:
        return app.openapi()

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "If-Match"],
            expose_headers=["ETag", "Retry-After"],
        )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)  # outermost: before any parsing
    return app
