"""Who and what a gold note is about, for subgroup evaluation: a :class:`Subject`, read from a
JSONL record's ``subject`` (:mod:`clinex.corpora.jsonl`) or from the Patient, Encounter and
DocumentReference of a FHIR Bundle (:mod:`clinex.corpora.fhir`), written by ``clinex synth``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any

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
