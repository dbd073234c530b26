"""Hand-made Entities grounded in hand-written notes, for the plausibility tests."""

from __future__ import annotations

from typing import Any

from clinex.core.systems import ICD10CM, LOINC, RXNORM
from clinex.core.types import Assertion, Code, Document, Entity, EntityType

SYSTEMS = {"condition": ICD10CM, "lab": LOINC, "medication": RXNORM}


def mention(
    note: str,
    text: str,
    type: EntityType,
    *,
    nth: int = 0,
    code: str | None = None,
    assertion: Assertion | None = None,
    **attributes: str,
) -> Entity:
    """The ``nth`` occurrence of ``text`` in ``note`` as an Entity (coded in the type's system)."""
    start = -1
    for _ in range(nth + 1):
        start = note.index(text, start + 1)
    return Entity(
        type=type,
        text=text,
        start=start,
        end=start + len(text),
        assertion=assertion or Assertion(),
        code=Code(system=SYSTEMS[type], code=code) if code else None,
        attributes=dict(attributes),
    )


def document(note: str, *entities: Entity, **fields: Any) -> Document:
    """A Document of ``note`` whose entities are all grounded in it."""
    doc = Document(text=note, id="test-note", entities=list(entities), **fields)
    assert not doc.ungrounded()
    return doc
