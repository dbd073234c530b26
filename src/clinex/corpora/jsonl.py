"""clinex JSONL (DESIGN.md): one ``{"id", "entities", ["text"], ["subject"]}`` record a line.

``subject`` (optional, every key optional) says who and what a gold note is about, for subgroup
evaluation: ``{"age": 68, "sex": "female", "note_type": "discharge letter", "site": "St. Mary",
"date": "2024-03-01"}`` — the patient's age in whole years at the note's date, sex as FHIR's
administrative gender, the kind of note, where it was written and its date. ``meta`` stays the
provenance of the run that made the record; readers of predictions ignore ``subject``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from clinex.core.errors import InputError
from clinex.core.serialize import document_from_record, document_to_record
from clinex.core.types import Document
from clinex.corpora._text import note_text
from clinex.corpora.corpus import Corpus
from clinex.corpora.problems import Problems

#: FHIR R4 AdministrativeGender, the values ``subject.sex`` may take.
SEXES: tuple[str, ...] = ("male", "female", "other", "unknown")
_MAX_AGE = 150


@dataclass(frozen=True, slots=True, kw_only=True)
class Subject:
    """What the gold says about a note's patient and setting; None where it says nothing."""

    age: int | None = None
    sex: str | None = None
    note_type: str | None = None
    site: str | None = None
    date: dt.date | None = None

    def to_record(self) -> dict[str, Any]:
        """The JSONL ``subject`` object: the known keys only, the date as ``YYYY-MM-DD``."""
        record: dict[str, Any] = {}
        for name in SUBJECT_KEYS:
            value = getattr(self, name)
            if value is not None:
                record[name] = value.isoformat() if isinstance(value, dt.date) else value
        return record

    @classmethod
    def from_record(cls, data: Any) -> Subject:
        """Parse a JSONL ``subject``; raises ValueError naming the bad key (never its value)."""
        if not isinstance(data, dict):
            raise ValueError("'subject' is not an object")
        unknown = sorted(set(data) - set(SUBJECT_KEYS))
        if unknown:
            raise ValueError(f"unknown subject key(s) {unknown}; known: {', '.join(SUBJECT_KEYS)}")
        age = data.get("age")
        if age is not None and (
            isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= _MAX_AGE
        ):
            raise ValueError(f"subject.age is not a whole number of years in 0..{_MAX_AGE}")
        sex = data.get("sex")
        if sex is not None and (not isinstance(sex, str) or sex.lower() not in SEXES):
            raise ValueError(f"subject.sex is not one of {', '.join(SEXES)}")
        texts = {}
        for name in ("note_type", "site"):
            value = data.get(name)
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ValueError(f"subject.{name} is not a non-empty string")
            texts[name] = None if value is None else value.strip()
        date = data.get("date")
        return cls(
            age=age,
            sex=None if sex is None else sex.lower(),
            note_type=texts["note_type"],
            site=texts["site"],
            date=None if date is None else _iso_date(date),
        )


SUBJECT_KEYS: tuple[str, ...] = tuple(f.name for f in fields(Subject))


def _iso_date(value: Any) -> dt.date:
    # A FHIR dateTime or instant is a date with a time after it: the day is what counts.
    try:
        if isinstance(value, str) and len(value) >= 10:
            return dt.date.fromisoformat(value[:10])
    except ValueError:
        pass
    raise ValueError("subject.date is not a date (YYYY-MM-DD)")


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
