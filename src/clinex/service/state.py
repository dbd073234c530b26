"""What one running service holds: its settings, store, extraction workers and job runner."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from clinex.review.policy import ReviewPolicy
from clinex.service.extraction import WorkerPool
from clinex.service.jobs import JobRunner
from clinex.service.limits import ExtractionSlots
from clinex.service.settings import ServiceSettings
from clinex.store import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class Service:
    settings: ServiceSettings
    policy: ReviewPolicy
    #: The registry name of the extractor the workers load (e.g. ``rules.v2``).
    extractor: str
    store: Store
    pool: WorkerPool
    slots: ExtractionSlots
    runner: JobRunner


def service(request: Request) -> Service:
    """The service of the app serving ``request`` (a FastAPI dependency)."""
    held: Service = request.app.state.service
    return held
