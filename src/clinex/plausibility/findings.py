"""What a plausibility check reports: one :class:`Finding` per implausible fact."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clinex.core.types import Entity


@dataclass(frozen=True, slots=True)
class Finding:
    """One implausible fact in a finished Document.

    ``entity`` is the index in ``Document.entities`` of the entity the finding is about (None
    for a finding about the note as a whole), ``span`` that entity's span; ``related`` are the
    indexes of the other entities involved (the negated mention of a condition that is also
    affirmed). ``message`` says what is implausible with the entity's own normalised values
    and codes only, never other words of the note.
    """

    check: str
    entity: int | None
    span: tuple[int, int] | None
    message: str
    related: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form kept in ``Document.meta["checks"]``."""
        return {
            "check": self.check,
            "entity": self.entity,
            "span": None if self.span is None else list(self.span),
            "message": self.message,
            "related": list(self.related),
        }

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Finding:
        """The inverse of :meth:`to_dict`."""
        span = value.get("span")
        return cls(
            check=str(value["check"]),
            entity=None if value.get("entity") is None else int(value["entity"]),
            span=None if span is None else (int(span[0]), int(span[1])),
            message=str(value["message"]),
            related=tuple(int(i) for i in value.get("related") or ()),
        )


def about(check: str, index: int, entity: Entity, message: str, related: tuple[int, ...] = ()) -> Finding:
    """A finding about ``entity``, the ``index``-th of its Document, with the entity's span."""
    span = (entity.start, entity.end) if entity.start is not None and entity.end is not None else None
    return Finding(check, index, span, message, related)
