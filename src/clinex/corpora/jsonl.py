"""clinex JSONL (DESIGN.md): one ``{"id", "entities", ["text"], ["subject"]}`` record a line.

``subject`` (optional, every key optional) says who and what a gold note is about, for subgroup
evaluation: ``{"age": 68, "sex": "female", "note_type": "discharge letter", "site": "St. Mary",
"date": "2024-03-01"}`` — the patient's age in whole years at the note's date, sex as FHIR's
administrative gender, the kind of note, where it was written and its date. ``meta`` stays the
provenance of the run that made the record; readers of predictions ignore ``subject``.
"""

from __future__ import annotations

import json
from pathlib import Path

from clinex.core.errors import InputError
from clinex.core.serialize import document_from_record, document_to_record
from clinex.core.types import Document
from clinex.corpora._text import note_text
from clinex.corpora.corpus import Corpus
from clinex.corpora.problems import Problems
from clinex.corpora.subject import Subject


def read_jsonl(path: Path, *, text_dir: Path | None = None) -> Corpus:
    """Read a clinex JSONL file; raises EvaluationError naming the first malformed lines."""
    return _read(path, text_dir, None)


def read_jsonl_with_subjects(
    path: Path, *, text_dir: Path | None = None
) -> tuple[Corpus, dict[str, Subject]]:
    """Read a gold JSONL file and the ``subject`` of each record that has one, by document id.

    A malformed ``subject`` is a problem of its line like a malformed entity.
    """
    subjects: dict[str, Subject] = {}
    return _read(path, text_dir, subjects), subjects


def _read(path: Path, text_dir: Path | None, subjects: dict[str, Subject] | None) -> Corpus:
    problems = Problems(path.name)
    documents: dict[str, Document] = {}
    locations: dict[str, str] = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                record = json.loads(line)
                doc = document_from_record(record)
                subject = (
                    Subject.from_record(record["subject"])
                    if subjects is not None and record.get("subject") is not None
                    else None
                )
            except json.JSONDecodeError:
                problems.add(where, "not JSON")
                continue
            except InputError as exc:
                problems.add(where, exc.message)
                continue
            except ValueError as exc:
                problems.add(where, str(exc))
                continue
            if doc.id in documents:
                problems.add(where, f"id {doc.id!r} repeats {locations[doc.id]}")
                continue
            doc.text = doc.text or note_text(text_dir, doc.id)
            ungrounded = [
                i
                for i, e in enumerate(doc.entities)
                if doc.text and e.grounded and not e.is_grounded_in(doc.text)
            ]
            if ungrounded:
                problems.add(where, f"entity {ungrounded[0]} of {doc.id!r}: text is not note[start:end]")
                continue
            documents[doc.id] = doc
            locations[doc.id] = where
            if subjects is not None and subject is not None:
                subjects[doc.id] = subject
    problems.raise_if_any(hint='each line must be {"id": ..., "entities": [...]} as in DESIGN.md')
    return Corpus(documents=documents, source=path.name, format="jsonl", locations=locations)


def write_jsonl(documents: list[Document], path: Path, *, with_text: bool = False) -> None:
    """Write documents as clinex JSONL (optionally keeping each note's text)."""
    with path.open("w", encoding="utf-8") as out:
        for doc in documents:
            record = document_to_record(doc)
            if with_text:
                record["text"] = doc.text
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
