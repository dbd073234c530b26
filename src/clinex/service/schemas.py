"""The shapes of the service's request bodies. Every model forbids unknown fields (a misspelt
field is a 422 naming it, never silently ignored); responses are plain JSON built in routes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from clinex.core.types import ASSERTION_FLAGS, ENTITY_TYPES

#: The longest note id the service stores.
MAX_ID_CHARS = 200
#: The most notes one job may hold (a bigger batch is several jobs, or `clinex extract`).
MAX_JOB_NOTES = 10_000
MAX_COMMENT_CHARS = 2_000

EntityType = Literal[ENTITY_TYPES]  # type: ignore[valid-type]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NoteIn(_Strict):
    id: str = Field(
        min_length=1, max_length=MAX_ID_CHARS, description="The note's id; unique in the service."
    )
    text: str = Field(description="The note, as UTF-8 text.")
    patient: dict[str, Any] | None = Field(default=None, description="A FHIR R4 Patient resource.")


class JobIn(_Strict):
    notes: list[NoteIn] = Field(min_length=1, max_length=MAX_JOB_NOTES, description="The notes to extract.")


class CodeIn(_Strict):
    system: str = Field(min_length=1, description="Code system URI, e.g. http://hl7.org/fhir/sid/icd-10-cm")
    code: str = Field(min_length=1)
    display: str | None = None


class FactFields(_Strict):
    """The fields of a fact a correction may change; those left out stay as they are."""

    type: EntityType | None = None
    start: int | None = Field(default=None, ge=0)
    end: int | None = Field(default=None, ge=0)
    text: str | None = None
    code: CodeIn | None = None
    assertion: dict[str, bool] | None = Field(
        default=None, description=f"flags: {', '.join(ASSERTION_FLAGS)}"
    )
    attributes: dict[str, str] | None = None


class DecisionIn(_Strict):
    action: Literal["accept", "reject", "correct"]
    changes: FactFields | None = Field(default=None, description="correct: the fields that change")
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)


class NewFactIn(_Strict):
    """A fact the extractor missed, added by a reviewer."""

    type: EntityType
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str = Field(min_length=1)
    code: CodeIn | None = None
    assertion: dict[str, bool] | None = None
    attributes: dict[str, str] | None = None
    comment: str | None = Field(default=None, max_length=MAX_COMMENT_CHARS)


class ExtractIn(_Strict):
    """``POST /extract``: one note extracted at once, nothing stored."""

    text: str = Field(description="The note, as UTF-8 text.")
    id: str = Field(
        default="note", max_length=MAX_ID_CHARS, description="The note's id, echoed in the output."
    )
    format: Literal["fhir", "jsonl"] = Field(default="fhir", description="Output form.")
    bundle_type: Literal["collection", "transaction"] = "collection"
    patient: dict[str, Any] | None = Field(default=None, description="A FHIR Patient resource.")
    min_confidence: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Leave out entities less confident than this."
    )
