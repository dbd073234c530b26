"""A set of annotated documents read from one source (gold, predictions, training data)."""

from __future__ import annotations

from dataclasses import dataclass, field

from clinex.core.types import Document, Entity


@dataclass(slots=True, kw_only=True)
class Corpus:
    """Documents by id, with where each came from (``file:line``) for error messages."""

    documents: dict[str, Document]
    source: str
    format: str
    locations: dict[str, str] = field(default_factory=dict)
    #: True where a document without annotations is simply absent (TSV code lists).
    sparse: bool = False

    @property
    def grounded(self) -> bool:
        """Whether every entity has a character span (CodiEsp code lists have none)."""
        return all(e.grounded for doc in self.documents.values() for e in doc.entities)

    def location(self, doc_id: str) -> str:
        return self.locations.get(doc_id, f"{self.source} (id {doc_id!r})")

    def entities(self, doc_id: str) -> list[Entity]:
        """The entities of one document; none where a sparse source left it out."""
        doc = self.documents.get(doc_id)
        return [] if doc is None else doc.entities
