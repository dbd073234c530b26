"""What the store takes and gives besides facts and decisions (those are clinex.review's):
notes to submit, jobs, stored documents, review-queue rows and API keys. Times are ISO 8601
UTC strings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from clinex.review.model import Fact

JobStatus = Literal["queued", "running", "done", "failed"]
DocumentStatus = Literal["queued", "extracted", "failed"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NewNote:
    """A note to extract and review: its id (unique in the store), text, and the FHIR Patient
    it belongs to, if given."""

    id: str
    text: str
    patient: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """A submitted batch: its documents in the order given, how many are extracted (``done``)
    or failed, and each failure as ``{"id", "code", "message"}``."""

    id: str
    status: JobStatus
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    documents: list[str] = field(default_factory=list)
    done: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDocument:
    """A stored note: its text, status, the extraction's ``meta``, its facts in position order,
    and the failure (``{"code", "message"}``) where extraction failed."""

    id: str
    text: str
    status: DocumentStatus
    job: str
    created_at: str
    patient: Mapping[str, Any] | None = None
    meta: Mapping[str, Any] = field(default_factory=dict)
    facts: list[Fact] = field(default_factory=list)
    error: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentSummary:
    """A review-queue row: fact counts (``pending``: no decision yet; ``required_open``: the
    policy requires a person and none has decided), the lowest fact confidence, and who
    decided on the document (people only, not the review policy)."""

    id: str
    status: DocumentStatus
    created_at: str
    facts: int = 0
    pending: int = 0
    required_open: int = 0
    min_confidence: float | None = None
    reviewers: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiKey:
    """A live API key: its name, role (reviewer or admin) and when it was made; never the token."""

    name: str
    role: str
    created_at: str
