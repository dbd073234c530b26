"""``date_in_future`` and ``date_before_birth``: an entity's ``date`` later than the note was
written, or earlier than the patient was born.

Dates are read by :func:`clinex.fhir.dates.parse_date` (the one date parser), at the precision
written: a date is flagged only when every day it may mean is impossible ("2031" is after a note
of 2024-05-01; "2024" is not, though "2024-06" is). The note's date is ``Document.meta["note_date"]``
(a FHIR date) where the input gave one, else the day of the check; the birth date is the
``birthDate`` of ``Document.patient``. A date that cannot be read is not flagged.
"""

from __future__ import annotations

import calendar
from datetime import date

from clinex.core.types import Document
from clinex.fhir.dates import parse_date
from clinex.plausibility.findings import Finding, about

IN_FUTURE = "date_in_future"
BEFORE_BIRTH = "date_before_birth"
#: The key of ``Document.meta`` holding the date the note was written, when known.
NOTE_DATE = "note_date"


def date_range(fhir_date: str) -> tuple[date, date]:
    """The first and last day a FHIR date (as :func:`parse_date` writes it) may mean:
    ``"2024-02"`` → Feb 1 and 29."""
    parts = [int(p) for p in fhir_date.split("-")]
    year = parts[0]
    if len(parts) == 1:
        return date(year, 1, 1), date(year, 12, 31)
    month = parts[1]
    if len(parts) == 2:
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    day = date(year, month, parts[2])
    return day, day


def date_findings(doc: Document, *, today: date) -> list[Finding]:
    """Findings for entity dates after the note's date (``today`` where the note has none) or
    before the patient's birth date."""
    note_date = _known(doc.meta.get(NOTE_DATE))
    if note_date is not None:
        latest, reference = note_date[1][1], f"the note date ({note_date[0]})"
    else:
        latest, reference = today, f"the date of the check ({today.isoformat()})"
    birth = _known((doc.patient or {}).get("birthDate"))
    findings = []
    for index, entity in enumerate(doc.entities):
        written = entity.attributes.get("date")
        shown = parse_date(written) if written else None
        if shown is None:
            continue
        first, last = date_range(shown)
        if first > latest:
            message = f"{entity.type} date {shown} is later than {reference}"
            findings.append(about(IN_FUTURE, index, entity, message))
        if birth is not None and last < birth[1][0]:
            message = f"{entity.type} date {shown} is earlier than the patient's birth date ({birth[0]})"
            findings.append(about(BEFORE_BIRTH, index, entity, message))
    return findings


def _known(value: object) -> tuple[str, tuple[date, date]] | None:
    """A FHIR date given with the input, as written and as the days it may mean."""
    parsed = parse_date(value.split("T")[0]) if isinstance(value, str) else None
    return None if parsed is None else (parsed, date_range(parsed))
