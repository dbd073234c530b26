"""Sampled facts: what a letter is written from.

A :class:`Fact` is one clinical statement taken from structured data (or added as a distractor)
with its role in the letter. The role fixes the gold assertion of its mention: only ``active``
facts are current findings; ``history``, ``family``, ``negated`` and ``hypothetical`` facts are
distractors that are written into the letter and kept as gold entities with the matching
assertion flag set, so that extractors learn to assert them instead of reporting them as active.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

from clinex.core.types import Assertion, Code, EntityType

Role = Literal["active", "history", "family", "negated", "hypothetical"]
ROLES: tuple[Role, ...] = ("active", "history", "family", "negated", "hypothetical")

_ASSERTIONS: dict[str, Assertion] = {
    "active": Assertion(),
    "history": Assertion(historical=True),
    "family": Assertion(family=True),
    "negated": Assertion(negated=True),
    "hypothetical": Assertion(hypothetical=True),
}


def assertion_for(role: Role) -> Assertion:
    """The gold assertion of a mention of a fact in ``role``."""
    return _ASSERTIONS[role]


@dataclass(frozen=True, slots=True, kw_only=True)
class Dose:
    """A medication dose per administration, e.g. 1000 mg."""

    value: float
    unit: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Tumor:
    """Oncology detail of a neoplasm: TNM categories, histology and grade."""

    t: str
    n: str
    m: str
    histology: str
    grade: int | None = None
    #: The prefix of the T and N categories: "p" (pathological) or "c" (clinical).
    prefix: str = "p"


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    """One structured fact to be written into a letter.

    ``name`` is the plain mention of the concept (e.g. ``"type 2 diabetes mellitus"``); writers
    may abbreviate or paraphrase it and record what they wrote as the gold entity text.
    """

    type: EntityType
    name: str
    role: Role = "active"
    code: Code | None = None
    date: dt.date | None = None
    #: when the condition abated or the medication was stopped (None: still ongoing)
    until: dt.date | None = None
    #: medication
    dose: Dose | None = None
    route: str | None = None
    #: administrations per day; 0 means "as needed"
    per_day: int | None = None
    #: lab
    value: float | None = None
    unit: str | None = None
    #: tumor
    tumor: Tumor | None = None
    #: id of the FHIR resource this fact came from (None for added distractors and enrichment)
    source_id: str | None = None

    @property
    def assertion(self) -> Assertion:
        return assertion_for(self.role)


@dataclass(slots=True, kw_only=True)
class PatientRecord:
    """The usable structured data of one patient, as read from a source."""

    id: str
    patient: dict[str, Any]
    #: every resource of the patient by id (for writing the source FHIR of a letter)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    encounters: list[Encounter] = field(default_factory=list)
    #: facts that are not tied to a sampled window yet (all conditions, meds, labs, procedures)
    facts: list[Fact] = field(default_factory=list)
    #: where the record came from (file name), for warnings
    origin: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Encounter:
    id: str
    start: dt.date
    end: dt.date
    kind: str  # FHIR v3 ActCode, e.g. "IMP", "EMER", "AMB"
    reason: str | None = None
    #: the organisation that provided the encounter (its ``serviceProvider``), by name
    site: str | None = None


@dataclass(slots=True, kw_only=True)
class SampledFacts:
    """The facts of one letter: a patient, an encounter window and the facts to write."""

    letter_id: str
    patient_id: str
    sex: Literal["male", "female", "unknown"]
    age: int | None
    encounter: Encounter
    facts: list[Fact]
    #: ids of the source resources the facts came from (the letter's source FHIR)
    source_ids: list[str] = field(default_factory=list)
