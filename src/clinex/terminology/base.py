"""The interface of a terminology: concepts with codes, displays and synonyms, and lookup."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

from clinex.core.types import Code

MatchKind = Literal["exact", "synonym", "fuzzy", "embedding"]
# Scores by match kind: an exact display is 1.0; a synonym is curated or an inclusion term, so
# nearly as sure; a fuzzy hit is capped below both, scaled by its string similarity.
SYNONYM_SCORE = 0.95
FUZZY_CAP = 0.9


@dataclass(frozen=True, slots=True)
class Concept:
    code: str
    display: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    """A lookup hit: the concept, a score in 0..1, and how it was found."""

    concept: Concept
    score: float
    kind: MatchKind


class Terminology(Protocol):
    #: FHIR system URI, e.g. ``http://hl7.org/fhir/sid/icd-10-cm``.
    system: str
    #: Short name, e.g. ``icd10cm``.
    name: str

    def get(self, code: str) -> Concept | None: ...

    def lookup(self, text: str, *, limit: int = 5, fuzzy: bool = True) -> list[Match]: ...

    def __iter__(self) -> Iterator[Concept]: ...


def to_code(terminology: Terminology, concept: Concept) -> Code:
    return Code(system=terminology.system, code=concept.code, display=concept.display)
