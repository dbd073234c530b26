"""A set of annotated documents read from one gold or prediction source."""

from __future__ import annotations

from dataclasses import dataclass, field

from clinex.core.types import Document, Entity
from clinex.eval._problems import Problems


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


def align(gold: Corpus, pred: Corpus) -> list[str]:
    """The document ids to score; raises EvaluationError naming ids found on one side only.

    Predictions for documents absent from the gold are always an error. Gold documents absent
    from the predictions are an error unless the prediction format is sparse, where absence
    means "nothing predicted".
    """
    problems = Problems(f"ids of {pred.source} against {gold.source}")
    for doc_id in pred.documents:
        if doc_id not in gold.documents:
            problems.add(pred.location(doc_id), f"id {doc_id!r} is not in the gold")
    if not pred.sparse:
        for doc_id in gold.documents:
            if doc_id not in pred.documents:
                problems.add(gold.location(doc_id), f"id {doc_id!r} has no prediction record")
    problems.raise_if_any(hint="gold and predictions must describe the same notes with the same ids")
    return list(gold.documents)
