"""date_in_future and date_before_birth on hand-made entities of hand-written notes."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from plausibility_notes import document, mention

from clinex.core.types import Entity
from clinex.plausibility import run_checks
from clinex.plausibility.dates import date_range

TODAY = date(2024, 5, 10)
NOTE = (
    "Discharge letter. Laparoscopic appendectomy on 2024-06-02 without complications.\n"
    "Pneumonia diagnosed 03/15/1958, treated with antibiotics.\n"
    "Colectomy in March 2024. Knee replacement in 1961.\n"
)
PATIENT = {"resourceType": "Patient", "birthDate": "1961-07-04"}


def checks_of(*entities: Entity, today: date = TODAY, **fields: Any) -> list[tuple[str, int | None]]:
    return [(f.check, f.entity) for f in run_checks(document(NOTE, *entities, **fields), today=today)]


def test_a_date_after_the_note_date_is_in_the_future() -> None:
    appendectomy = mention(NOTE, "appendectomy", "procedure", date="2024-06-02")
    assert checks_of(appendectomy, meta={"note_date": "2024-05-20"}) == [("date_in_future", 0)]
    (finding,) = run_checks(document(NOTE, appendectomy, meta={"note_date": "2024-05-20"}), today=TODAY)
    assert finding.span == (appendectomy.start, appendectomy.end)
    assert finding.message == "procedure date 2024-06-02 is later than the note date (2024-05-20)"


def test_without_a_note_date_the_day_of_the_check_is_the_reference() -> None:
    appendectomy = mention(NOTE, "appendectomy", "procedure", date="2024-06-02")
    assert checks_of(appendectomy) == [("date_in_future", 0)]
    assert (
        "the date of the check (2024-05-10)"
        in run_checks(document(NOTE, appendectomy), today=TODAY)[0].message
    )
    assert checks_of(appendectomy, today=date(2024, 6, 2)) == []


@pytest.mark.parametrize(
    ("written", "note_date"),
    [
        ("2024-06-02", "2024-06-02"),  # the same day
        ("March 2024", "2024-03-01"),  # a month that holds the note date
        ("1961", "1961-01-15"),  # a year that holds it
        ("2024-06-02", "2024-06"),  # a note date of a month: any day of it
        ("next spring", "2024-01-01"),  # not a date: not read, not flagged
    ],
)
def test_a_date_that_may_be_on_or_before_the_note_date_is_not_flagged(written: str, note_date: str) -> None:
    colectomy = mention(NOTE, "Colectomy", "procedure", date=written)
    assert checks_of(colectomy, meta={"note_date": note_date}) == []


def test_a_date_before_the_birth_date_is_flagged() -> None:
    pneumonia = mention(NOTE, "Pneumonia", "condition", code="J18.9", date="03/15/1958")
    assert checks_of(pneumonia, patient=PATIENT) == [("date_before_birth", 0)]
    (finding,) = run_checks(document(NOTE, pneumonia, patient=PATIENT), today=TODAY)
    assert (
        finding.message == "condition date 1958-03-15 is earlier than the patient's birth date (1961-07-04)"
    )


@pytest.mark.parametrize("written", ["1961", "July 1961", "07/04/1961", "2001-02-03"])
def test_a_date_that_may_be_after_birth_is_not_flagged(written: str) -> None:
    knee = mention(NOTE, "Knee replacement", "procedure", date=written)
    assert checks_of(knee, patient=PATIENT) == []


def test_without_a_birth_date_nothing_is_before_birth() -> None:
    pneumonia = mention(NOTE, "Pneumonia", "condition", date="03/15/1958")
    assert checks_of(pneumonia, patient={"resourceType": "Patient", "id": "p1"}) == []
    assert checks_of(pneumonia) == []


def test_a_year_before_a_birth_date_of_a_year_is_before_birth() -> None:
    knee = mention(NOTE, "Knee replacement", "procedure", date="1960")
    assert checks_of(knee, patient={"resourceType": "Patient", "birthDate": "1961"}) == [
        ("date_before_birth", 0)
    ]
    assert checks_of(knee, patient={"resourceType": "Patient", "birthDate": "1960"}) == []


def test_date_range_is_every_day_a_date_may_mean() -> None:
    assert date_range("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))
    assert date_range("2023") == (date(2023, 1, 1), date(2023, 12, 31))
    assert date_range("2023-11-05") == (date(2023, 11, 5), date(2023, 11, 5))
