"""Core data types: a Document of grounded Entities.

Every entity carries a half-open character interval into the note it came from and an
alignment status; an entity that could not be grounded has ``start = end = None`` and
``alignment = "none"`` — never a guessed position.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal, get_args

EntityType = Literal["condition", "medication", "lab", "procedure", "tumor"]
Alignment = Literal["exact", "fuzzy", "none"]

ENTITY_TYPES: tuple[str, ...] = get_args(EntityType)
ALIGNMENTS: tuple[str, ...] = get_args(Alignment)

#: Attribute names each entity type may carry (``date`` is allowed on any type).
ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "condition": ("date",),
    "medication": ("dose", "route", "frequency", "date"),
    "lab": ("value", "unit", "date"),
    "procedure": ("date",),
    "tumor": ("tnm", "histology", "grade", "date"),
}
#: Every attribute name once, in the order of :data:`ATTRIBUTES`.
ATTRIBUTE_NAMES: tuple[str, ...] = tuple(
    dict.fromkeys(name for names in ATTRIBUTES.values() for name in names)
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Assertion:
    """ConText-style assertion flags (medspaCy's vocabulary); all false means affirmed."""

    negated: bool = False
    historical: bool = False
    family: bool = False
    uncertain: bool = False
    hypothetical: bool = False

    @property
    def affirmed(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def names(self) -> list[str]:
        """The flags that are set, in declaration order."""
        return [f.name for f in fields(self) if getattr(self, f.name)]


ASSERTION_FLAGS: tuple[str, ...] = tuple(f.name for f in fields(Assertion))


@dataclass(frozen=True, slots=True, kw_only=True)
class Code:
    """A concept in a terminology, e.g. ICD-10-CM ``E11.9``."""

    system: str
    code: str
    display: str | None = None


@dataclass(slots=True, kw_only=True)
class Entity:
    """One extracted fact, grounded in the note by ``note[start:end] == text``."""

    type: EntityType
    text: str
    start: int | None = None
    end: int | None = None
    alignment: Alignment = "exact"
    assertion: Assertion = field(default_factory=Assertion)
    code: Code | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    confidence: float = 1.0

    def __post_init__(self) -> None:
        if self.type not in ENTITY_TYPES:
            raise ValueError(f"entity type {self.type!r} is not one of {', '.join(ENTITY_TYPES)}")
        if self.alignment not in ALIGNMENTS:
            raise ValueError(f"alignment {self.alignment!r} is not one of {', '.join(ALIGNMENTS)}")
        if (self.start is None) != (self.end is None):
            raise ValueError("start and end must both be set or both be None")
        if self.start is not None and self.end is not None and not 0 <= self.start <= self.end:
            raise ValueError(f"span [{self.start}, {self.end}) is not a valid half-open interval")
        if self.start is None and self.alignment != "none":
            raise ValueError("an entity without a span must have alignment 'none'")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence {self.confidence} is outside 0..1")

    @property
    def grounded(self) -> bool:
        return self.start is not None

    def is_grounded_in(self, note: str) -> bool:
        """The one grounding check used everywhere: ``note[start:end] == text``."""
        return self.start is not None and note[self.start : self.end] == self.text

    def with_(self, **changes: Any) -> Entity:
        """A copy with some fields changed."""
        return replace(self, **changes)


@dataclass(slots=True, kw_only=True)
class Document:
    """A note and the entities extracted from it."""

    text: str
    id: str = "note"
    entities: list[Entity] = field(default_factory=list)
    #: A FHIR Patient resource given with the input, or None for a placeholder.
    patient: dict[str, Any] | None = None
    #: Provenance of the run (see :mod:`clinex.pipeline`): extractor name/version, model
    #: checksum, prompt version, assertion layer, terminology versions, clinex version, thresholds.
    meta: dict[str, Any] = field(default_factory=dict)

    def ungrounded(self) -> list[Entity]:
        """Entities whose span does not reproduce their text (should be empty)."""
        return [e for e in self.entities if e.grounded and not e.is_grounded_in(self.text)]

    def to_dict(self) -> dict[str, Any]:
        """The JSONL record of DESIGN.md: ``{"id", "entities"}``."""
        return _export("jsonl", self)

    def to_fhir(self, *, bundle_type: str = "collection") -> dict[str, Any]:
        """A FHIR R4 Bundle (as a JSON-ready dict) for this document."""
        return _export("fhir", self, bundle_type=bundle_type)


def _export(name: str, doc: Document, **options: Any) -> dict[str, Any]:
    # Serialisers live beside the types, not in them: found through the exporter registry.
    from clinex.core.registry import exporters

    return exporters.get(name)(doc, **options)  # type: ignore[no-any-return]
