"""The two sets a monitor run compares: notes and what was extracted from them.

A set is read from a prediction source (clinex JSONL, FHIR Bundles: a file, NDJSON or a folder)
and, where the predictions do not carry their notes' text, from the notes (any input
``clinex extract`` reads), joined by id. Reading never writes anything.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clinex.core.errors import EvaluationError, InputError
from clinex.core.types import Document
from clinex.corpora import read_corpus
from clinex.inputs import NoteRecord, read_inputs

#: The meta keys that say what produced a set; REF and CUR differing in one is warned about.
IDENTITY_KEYS: tuple[str, ...] = ("extractor", "model", "calibration", "clinex_version")


@dataclass(slots=True, kw_only=True)
class MonitorSet:
    """Documents (note text and entities) of one period, and what produced them."""

    name: str
    documents: list[Document]
    #: Notes without any prediction record (counted, not monitored).
    unpredicted: int = 0
    warnings: list[str] = field(default_factory=list)

    def identity(self) -> dict[str, Any]:
        """The most common value of each of :data:`IDENTITY_KEYS` over the documents."""
        out: dict[str, Any] = {}
        for key in IDENTITY_KEYS:
            values = Counter(repr(doc.meta.get(key)) for doc in self.documents)
            if values:
                first = values.most_common(1)[0][0]
                out[key] = next(
                    doc.meta.get(key) for doc in self.documents if repr(doc.meta.get(key)) == first
                )
        return out


def load_set(name: str, pred: Path, notes: Path | None = None) -> MonitorSet:
    """A set from predictions and, optionally, their notes.

    Raises InputError (naming the input, never a note's text) when the predictions cannot be
    read, are empty, or hold documents whose note is neither in them nor in ``notes``.
    """
    if not pred.exists():
        raise InputError(f"{name} predictions {pred}: no such file or directory", hint="check the path")
    try:
        corpus = read_corpus(pred)
    except EvaluationError as exc:  # the reader's words, as a problem of this set's input
        raise InputError(f"{name} predictions {pred}: {exc.message}", hint=exc.hint) from None
    documents = list(corpus.documents.values())
    if not documents:
        raise InputError(
            f"{name} predictions {pred} hold no documents", hint="give a non-empty output of clinex extract"
        )
    unpredicted = 0
    if notes is not None:
        texts = _note_texts(name, notes)
        missing = [d.id for d in documents if d.id not in texts]
        if missing:
            shown = ", ".join(repr(i) for i in missing[:5])
            raise InputError(
                f"{name}: {len(missing)} of {len(documents)} predicted documents have no note in {notes} "
                f"(e.g. {shown})",
                hint="give the notes the predictions were made from (same ids)",
            )
        for doc in documents:
            doc.text = texts[doc.id]
        unpredicted = len(set(texts) - {d.id for d in documents})
    without_text = [d.id for d in documents if not d.text]
    if without_text:
        raise InputError(
            f"{name}: {len(without_text)} of {len(documents)} predicted documents carry no note text "
            f"(e.g. {without_text[0]!r})",
            hint=f"give the notes too: --{name.lower()} NOTES PRED, or monitor FHIR output (it holds the notes)",
        )
    result = MonitorSet(name=name, documents=documents, unpredicted=unpredicted)
    if unpredicted:
        result.warnings.append(f"{name}: {unpredicted} notes have no prediction record and are not monitored")
    return result


def _note_texts(name: str, notes: Path) -> dict[str, str]:
    if not notes.exists():
        raise InputError(f"{name} notes {notes}: no such file or directory", hint="check the path")
    texts: dict[str, str] = {}
    for item in read_inputs([notes]):
        if isinstance(item, NoteRecord):
            texts.setdefault(item.id, item.text)
    if not texts:
        raise InputError(f"{name} notes {notes}: no readable note", hint="give notes clinex extract reads")
    return texts
