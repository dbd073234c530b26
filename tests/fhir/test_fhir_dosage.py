"""MedicationStatement.dosage codes come from the one attribute vocabulary (terminology.attributes)."""

from __future__ import annotations

from typing import Any

import pytest

from clinex.core.systems import GTS_ABBREVIATION, SNOMED
from clinex.core.types import Document, Entity
from clinex.fhir import document_to_bundle, validate_bundle
from clinex.terminology.attributes import FREQUENCIES, ROUTES

NOTE = "Metformin 500 mg."


def dosage(**attributes: str) -> dict[str, Any]:
    entity = Entity(type="medication", text="Metformin", start=0, end=9, attributes=attributes)
    bundle = document_to_bundle(Document(text=NOTE, id="n", entities=[entity]))
    validate_bundle(bundle)
    (statement,) = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "MedicationStatement"
    ]
    (found,) = statement["dosage"]
    return found  # type: ignore[no-any-return]


@pytest.mark.parametrize(("route", "spelling"), [(r, s) for r in ROUTES for s in r.written])
def test_every_route_the_letters_write_gets_its_snomed_code(route: Any, spelling: str) -> None:
    assert dosage(route=spelling)["route"] == {
        "text": spelling,
        "coding": [{"system": SNOMED, "code": route.snomed, "display": route.display}],
    }


@pytest.mark.parametrize("spelling", [s for f in FREQUENCIES for s in (*f.written, *f.schemes)])
def test_every_frequency_the_letters_write_gets_a_coded_timing(spelling: str) -> None:
    found = dosage(frequency=spelling)
    assert found["timing"]["code"]["text"] == spelling  # the text as written is kept
    if found.get("asNeededBoolean"):
        assert "coding" not in found["timing"]["code"] and "repeat" not in found["timing"]
    else:
        (coding,) = found["timing"]["code"]["coding"]
        assert coding["system"] == GTS_ABBREVIATION and coding["code"]
        assert set(found["timing"]["repeat"]) >= {"frequency", "period", "periodUnit"}


@pytest.mark.parametrize(
    ("frequency", "code", "repeat"),
    [
        ("twice daily", "BID", {"frequency": 2, "period": 1, "periodUnit": "d"}),
        ("1-0-1", "BID", {"frequency": 2, "period": 1, "periodUnit": "d", "when": ["MORN", "EVE"]}),
        (
            "1-1-1-1",
            "QID",
            {"frequency": 4, "period": 1, "periodUnit": "d", "when": ["MORN", "NOON", "EVE", "NIGHT"]},
        ),
        ("every 8 hours", "Q8H", {"frequency": 1, "period": 8, "periodUnit": "h"}),
        ("nocte", "BED", {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["HS"]}),
        ("weekly", "WK", {"frequency": 1, "period": 1, "periodUnit": "wk"}),
    ],
)
def test_timing_has_the_gts_code_and_repeat(frequency: str, code: str, repeat: dict[str, Any]) -> None:
    timing = dosage(frequency=frequency)["timing"]
    assert [c["code"] for c in timing["code"]["coding"]] == [code]
    assert timing["repeat"] == repeat


@pytest.mark.parametrize("spelling", ["as needed", "p.r.n.", "PRN", "on demand"])
def test_as_needed_is_as_needed_boolean_not_a_timing_code(spelling: str) -> None:
    found = dosage(dose="500 mg", route="p.o.", frequency=spelling)
    assert found["asNeededBoolean"] is True
    assert found["timing"] == {"code": {"text": spelling}}
    assert found["text"] == f"500 mg p.o. {spelling}"


def test_unknown_route_and_frequency_keep_their_text_only() -> None:
    found = dosage(route="via PEG", frequency="with meals")
    assert found["route"] == {"text": "via PEG"}
    assert found["timing"] == {"code": {"text": "with meals"}}
    assert "asNeededBoolean" not in found
