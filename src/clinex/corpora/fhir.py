"""FHIR R4 Bundles (``clinex extract --format fhir``, or any producer's) as a corpus.

Each Bundle becomes a Document by :func:`clinex.fhir.parse.bundle_to_document`; a Bundle of
Bundles gives one Document per inner Bundle. Resources are then compared by type, code,
assertion and span like any other corpus.

Gold Bundles also say who a note is about (:func:`read_fhir_with_subjects`): sex and birth date
from the Patient; the note's date from ``DocumentReference.date``, else the end, else the start of
the Encounter's period; the age in whole years at that date; the note type from
``DocumentReference.type`` (its text, else its first display, else its first code); the site from
the Encounter's ``serviceProvider``, else the DocumentReference's ``custodian`` (the Organization's
name, else the reference's display) — the site of care before the keeper of the record. The
Encounter is the one ``DocumentReference.context.encounter`` names, else the Bundle's only one.
A partial date (``2024`` or ``2024-03``, valid FHIR) gives no date and so no age.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from clinex.core.errors import FHIRError
from clinex.core.types import Document
from clinex.corpora._text import note_text
from clinex.corpora.corpus import Corpus
from clinex.corpora.problems import Problems
from clinex.corpora.subject import SEXES, Subject
from clinex.fhir.io import JsonProblem, References, bundle_entries, read_json_file
from clinex.fhir.parse import bundle_to_document

_FHIR_DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")


def read_fhir(path: Path, *, text_dir: Path | None = None) -> Corpus:
    """Read Bundles from a ``.json`` file, an NDJSON file (one a line) or a folder of ``.json``."""
    return _read(path, text_dir, None)


def read_fhir_with_subjects(path: Path, *, text_dir: Path | None = None) -> tuple[Corpus, dict[str, Subject]]:
    """Read gold Bundles and what each says about its note's patient and setting, by document id
    (see the module docstring); a malformed date or gender is a problem of its Bundle."""
    subjects: dict[str, Subject] = {}
    return _read(path, text_dir, subjects), subjects


def _read(path: Path, text_dir: Path | None, subjects: dict[str, Subject] | None) -> Corpus:
    problems = Problems(path.name)
    documents: dict[str, Document] = {}
    locations: dict[str, str] = {}
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    for item in (item for file in files for item in read_json_file(file)):
        if isinstance(item, JsonProblem):
            problems.add(item.where, item.reason)
            continue
        where, resource = item.where, item.value
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if kind != "Bundle":
            problems.add(where, f"resourceType {kind!r}, expected Bundle")
            continue
        try:
            inner = [e.resource for e in bundle_entries(resource, where=where)]
            nested = [r for r in inner if r is not None and r["resourceType"] == "Bundle"]
            bundles = nested or [resource]
            docs = [
                bundle_to_document(bundle, default_id=Path(where.split(":")[0]).stem, where=where)
                for bundle in bundles
            ]
            found = (
                [_subject(bundle, doc.patient, where) for bundle, doc in zip(bundles, docs, strict=True)]
                if subjects is not None
                else []
            )
        except FHIRError as exc:
            # The message starts with ``where`` already; the problem list names it once.
            problems.add(where, exc.message.removeprefix(f"{where}: ").removeprefix(f"{where} "))
            continue
        except ValueError as exc:
            problems.add(where, str(exc))
            continue
        for index, doc in enumerate(docs):
            if doc.id in documents:
                problems.add(where, f"id {doc.id!r} repeats {locations[doc.id]}")
                continue
            doc.text = doc.text or note_text(text_dir, doc.id)
            documents[doc.id] = doc
            locations[doc.id] = where
            if subjects is not None and found[index] != Subject():
                subjects[doc.id] = found[index]
    problems.raise_if_any(hint="give FHIR R4 Bundles as written by `clinex extract --format fhir`")
    return Corpus(documents=documents, source=path.name, format="fhir", locations=locations)


def _subject(bundle: dict[str, Any], patient: dict[str, Any] | None, where: str) -> Subject:
    entries = bundle_entries(bundle, where=where)
    references = References(entries)
    resources = [e.resource for e in entries if e.resource is not None]
    doc_ref = next((r for r in resources if r["resourceType"] == "DocumentReference"), {})
    named = _dict(doc_ref.get("context")).get("encounter")
    linked = [
        r
        for r in map(references.resolve, named if isinstance(named, list) else [])
        if r is not None and r["resourceType"] == "Encounter"
    ]
    present = [r for r in resources if r["resourceType"] == "Encounter"]
    encounter = linked[0] if linked else present[0] if len(present) == 1 else {}
    period = _dict(encounter.get("period"))
    date = (
        _day(doc_ref.get("date"), "DocumentReference.date")
        or _day(period.get("end"), "Encounter.period.end")
        or _day(period.get("start"), "Encounter.period.start")
    )
    patient = patient or {}
    born = _day(patient.get("birthDate"), "Patient.birthDate")
    gender = patient.get("gender")
    if gender is not None and gender not in SEXES:
        raise ValueError(f"Patient.gender is not one of {', '.join(SEXES)}")
    return Subject(
        age=None if date is None or born is None else _years(born, date),
        sex=gender,
        note_type=_concept_text(doc_ref.get("type")),
        site=_organisation(encounter.get("serviceProvider"), references)
        or _organisation(doc_ref.get("custodian"), references),
        date=date,
    )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _day(value: Any, name: str) -> dt.date | None:
    """A full date from a FHIR date, dateTime or instant; None where absent or partial."""
    if value is None:
        return None
    match = _FHIR_DATE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"{name} is not a FHIR date")
    if match.group(2) is None:
        return None  # a year or a month: valid FHIR, but no day to count an age from
    try:
        return dt.date.fromisoformat(match.group(0))
    except ValueError:
        raise ValueError(f"{name} is not a FHIR date") from None


def _years(born: dt.date, on: dt.date) -> int:
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if years < 0:
        raise ValueError("Patient.birthDate is after the note's date")
    return years


def _concept_text(concept: Any) -> str | None:
    if not isinstance(concept, dict):
        return None
    codings = [c for c in concept.get("coding") or [] if isinstance(c, dict)]
    found = [concept.get("text"), *(c.get("display") for c in codings), *(c.get("code") for c in codings)]
    return next((str(v).strip() for v in found if isinstance(v, str) and v.strip()), None)


def _organisation(reference: Any, references: References) -> str | None:
    if not isinstance(reference, dict):
        return None
    organisation = references.resolve(reference)
    names = [organisation.get("name") if organisation is not None else None, reference.get("display")]
    return next((v.strip() for v in names if isinstance(v, str) and v.strip()), None)
