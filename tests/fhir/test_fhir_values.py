"""Free-text quantities and dates → FHIR Quantity (UCUM) and dateTime; TNM strings → categories."""

from __future__ import annotations

import pytest

from clinex.fhir.dates import parse_date
from clinex.fhir.oncology import parse_tnm
from clinex.fhir.quantities import parse_quantity


@pytest.mark.parametrize(
    ("written", "fhir"),
    [
        ("2024-03-12", "2024-03-12"),
        ("2024-3", "2024-03"),
        ("03/11/2024", "2024-03-11"),
        ("25/12/2023", "2023-12-25"),
        ("March 5, 2021", "2021-03-05"),
        ("5th Sept 2021", "2021-09-05"),
        ("Jan 2020", "2020-01"),
        ("2009", "2009"),
        ("in 2015", "2015"),
        ("2023-02-30", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_date(written: str, fhir: str | None) -> None:
    assert parse_date(written) == fhir


@pytest.mark.parametrize(
    ("value", "unit", "quantity"),
    [
        ("500 mg", None, {"value": 500, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}),
        ("18 mcg", None, {"value": 18, "unit": "mcg", "system": "http://unitsofmeasure.org", "code": "ug"}),
        ("1,200", "mg", {"value": 1200, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}),
        ("0.5", None, {"value": 0.5}),
        (
            "76,4",
            "/min",
            {"value": 76.4, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"},
        ),
        (
            ">90",
            "mL/min/1.73m2",
            {
                "value": 90,
                "comparator": ">",
                "unit": "mL/min/1.73m2",
                "system": "http://unitsofmeasure.org",
                "code": "mL/min/{1.73_m2}",
            },
        ),
        ("1-2 tablets", None, None),
        ("5 / 10 mg", None, None),
        ("positive", None, None),
    ],
)
def test_parse_quantity(value: str, unit: str | None, quantity: dict[str, object] | None) -> None:
    assert parse_quantity(value, unit) == quantity


@pytest.mark.parametrize(
    ("tnm", "categories"),
    [
        ("pT2N1M0", [("p", "T", "pT2"), ("p", "N", "N1"), ("p", "M", "M0")]),
        ("cT3 N2a M1b", [("c", "T", "cT3"), ("c", "N", "N2a"), ("c", "M", "M1b")]),
        ("ypT1c pN0", [("p", "T", "ypT1c"), ("p", "N", "pN0")]),
        ("Tis N0", [("c", "T", "Tis"), ("c", "N", "N0")]),
        ("stage IIIA", []),
    ],
)
def test_parse_tnm(tnm: str, categories: list[tuple[str, str, str]]) -> None:
    assert parse_tnm(tnm) == categories
