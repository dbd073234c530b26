"""A decision applied to a Document: the new Document, and the fact before and after."""

from __future__ import annotations

from dataclasses import replace

from clinex.core.errors import InputError
from clinex.core.serialize import entity_from_dict, entity_to_dict
from clinex.core.types import ATTRIBUTES, Document, Entity
from clinex.review.model import Decision


def apply_decision(doc: Document, decision: Decision) -> tuple[Document, Entity | None, Entity | None]:
    """``doc`` with ``decision`` applied, and the fact before and after it (None where there
    is none: before an ``add``, after a ``reject``).

    A corrected or added fact is checked like an extracted one: its span must reproduce its text
    (``note[start:end] == text``) and its attributes must fit its type; otherwise InputError,
    naming the field, never the note's text.
    """
    entities = list(doc.entities)
    before: Entity | None = None
    if decision.index is not None:
        if not 0 <= decision.index < len(entities):
            raise InputError(
                f"document {doc.id!r} has no fact {decision.index}",
                hint=f"give an index from 0 to {len(entities) - 1}",
            )
        before = entities[decision.index]
    if decision.action == "accept":
        return doc, before, before
    if decision.action == "reject":
        assert decision.index is not None  # checked by Decision
        del entities[decision.index]
        return replace(doc, entities=entities), before, None
    base = entity_to_dict(before) if before is not None else {}
    after = _checked(doc, entity_from_dict({**base, **decision.changes, "confidence": 1.0}))
    if decision.index is None:
        entities.append(after)
    else:
        entities[decision.index] = after
    return replace(doc, entities=entities), before, after


def _checked(doc: Document, entity: Entity) -> Entity:
    if entity.grounded and not entity.is_grounded_in(doc.text):
        raise InputError(
            f"document {doc.id!r}: the span [{entity.start}, {entity.end}) does not hold the fact's text",
            hint="send start and end of the text as it stands in the note (0-based, end exclusive)",
        )
    wrong = sorted(set(entity.attributes) - set(ATTRIBUTES[entity.type]))
    if wrong:
        raise InputError(
            f"document {doc.id!r}: a {entity.type} has no attribute(s) {wrong}",
            hint=f"a {entity.type} may carry: {', '.join(ATTRIBUTES[entity.type])}",
        )
    return entity
