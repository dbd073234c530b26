"""dose_out_of_range on hand-made medication entities of hand-written notes, and the dose table."""

from __future__ import annotations

from importlib import resources

import pytest
from plausibility_notes import document, mention

from clinex.core.types import Entity
from clinex.plausibility import run_checks
from clinex.plausibility.doses import convert, dose_table

NOTE = (
    "Medications on discharge:\n"
    "Metformin 5000 mg orally twice daily.\n"
    "Digoxin 125 mg once daily.\n"
    "Levothyroxine 1 mcg every morning.\n"
    "Paracetamol 1 g four times daily as required.\n"
    "Furosemide 600 mg i.v. once.\n"
    "Insulin glargine 20 units subcutaneously at night.\n"
    "Enoxaparin 4000 units subcutaneously once daily.\n"
    "Morphine 500 mg rectally.\n"
    "Zorblimab 9000 mg weekly.\n"
)


def findings(entity: Entity) -> list[str]:
    return [f.message for f in run_checks(document(NOTE, entity)) if f.check == "dose_out_of_range"]


def test_a_dose_above_the_maximum_for_its_route_is_flagged() -> None:
    metformin = mention(NOTE, "Metformin", "medication", code="6809", dose="5000 mg", route="oral")
    assert findings(metformin) == [
        "dose 5000 mg of metformin (oral) is above the plausible maximum single dose of 2000 mg"
    ]


def test_the_same_drug_at_a_usual_dose_is_not_flagged() -> None:
    metformin = mention(NOTE, "Metformin", "medication", code="6809", dose="1000 mg", route="oral")
    assert findings(metformin) == []


def test_a_dose_below_the_minimum_is_flagged_after_converting_units() -> None:
    levothyroxine = mention(NOTE, "Levothyroxine", "medication", dose="1 ug")
    assert findings(levothyroxine) == [
        "dose 1 ug of levothyroxine (any route) is below the plausible minimum single dose of 12.5 ug"
    ]
    assert findings(mention(NOTE, "Levothyroxine", "medication", dose="0.1 mg")) == []  # = 100 ug


def test_a_drug_is_found_by_a_synonym_and_its_dose_converted_from_grams() -> None:
    assert findings(mention(NOTE, "Paracetamol", "medication", dose="1 g")) == []
    assert findings(mention(NOTE, "Paracetamol", "medication", dose="2 g")) == [
        "dose 2 g of acetaminophen (any route) is above the plausible maximum single dose of 1000 mg"
    ]


def test_without_a_route_only_a_dose_implausible_by_every_route_is_flagged() -> None:
    digoxin = mention(NOTE, "Digoxin", "medication", code="3407", dose="125 mg")
    assert findings(digoxin) == [
        "dose 125 mg of digoxin (any route) is above the plausible maximum single dose of 1 mg"
    ]
    furosemide = mention(NOTE, "Furosemide", "medication", code="4603", dose="600 mg")
    assert findings(furosemide) == []  # 600 mg is an oral dose


def test_the_route_chooses_the_range() -> None:
    intravenous = mention(NOTE, "Furosemide", "medication", code="4603", dose="600 mg", route="intravenous")
    assert findings(intravenous) == [
        "dose 600 mg of furosemide (intravenous) is above the plausible maximum single dose of 500 mg"
    ]
    oral = mention(NOTE, "Furosemide", "medication", code="4603", dose="600 mg", route="oral")
    assert findings(oral) == []


def test_units_of_insulin_are_checked_as_international_units() -> None:
    usual = mention(NOTE, "Insulin glargine", "medication", dose="20 [IU]", route="subcutaneous")
    assert findings(usual) == []
    assert len(findings(usual.with_(attributes={"dose": "2000 U", "route": "subcutaneous"}))) == 1


@pytest.mark.parametrize(
    ("text", "attributes"),
    [
        ("Enoxaparin", {"dose": "4000 [IU]", "route": "subcutaneous"}),  # units for a range in mg
        ("Enoxaparin", {"dose": "1 mg/kg", "route": "subcutaneous"}),  # per kilogram
        ("Metformin", {"dose": "5000 mL", "route": "oral"}),  # a volume
        ("Metformin", {"dose": "1-2 tablets", "route": "oral"}),  # not one quantity
        ("Morphine", {"dose": "500 mg", "route": "rectal"}),  # a route with no range
        ("Zorblimab", {"dose": "9000 mg"}),  # a drug the table does not know
        ("Metformin", {"route": "oral"}),  # no dose
    ],
)
def test_what_cannot_be_compared_is_not_flagged(text: str, attributes: dict[str, str]) -> None:
    assert findings(mention(NOTE, text, "medication", **attributes)) == []


def test_convert_changes_prefixes_of_one_kind_only() -> None:
    assert convert(1, "g", "mg") == 1000
    assert convert(250, "ug", "mg") == 0.25
    assert convert(10, "U", "[IU]") == 10
    assert convert(10, "[IU]", "mg") is None
    assert convert(10, "mL", "mg") is None


def test_the_table_has_the_common_discharge_drugs_each_with_a_source() -> None:
    table = dose_table()
    for drug in ["metformin", "furosemide", "warfarin", "apixaban", "insulin", "levothyroxine", "heparin"]:
        assert drug in table.ranges
    assert len(table.ranges) >= 30
    for routes in table.ranges.values():
        for dose_range in routes.values():
            assert 0 < dose_range.low <= dose_range.high and dose_range.source
    header = (resources.files("clinex.plausibility") / "data" / "dose_ranges.tsv").read_text("utf-8")
    assert "NOT DOSING ADVICE" in header.split("\ndrug\t")[0]
