"""One attribute vocabulary: every spelling the synthetic writer uses is read back, by the
grammar the extractors use and by the canonical forms the normaliser writes."""

from __future__ import annotations

import pytest

import clinex
from clinex.terminology import attributes

WRITTEN_FREQUENCIES = sorted(
    {(s, f.name) for f in attributes.FREQUENCIES for s in f.written}
    | {(s, attributes.frequency(s).name) for f in attributes.FREQUENCIES for s in f.schemes}  # type: ignore[union-attr]
)
WRITTEN_ROUTES = sorted({(s, r.name) for r in attributes.ROUTES for s in r.written})


@pytest.mark.parametrize(("spelling", "name"), WRITTEN_FREQUENCIES)
def test_every_written_frequency_is_recognised_and_canonical(spelling: str, name: str) -> None:
    found = attributes.FREQUENCY.search(f"Metformin 500 mg {spelling} with food")
    assert found is not None and found[1] == spelling
    assert attributes.canonical_frequency(spelling) == name


@pytest.mark.parametrize(("spelling", "name"), WRITTEN_ROUTES)
def test_every_written_route_is_recognised_and_canonical(spelling: str, name: str) -> None:
    found = attributes.ROUTE.search(f"Metformin 500 mg {spelling} twice daily")
    assert found is not None and found[1] == spelling
    assert attributes.canonical_route(spelling) == name


@pytest.mark.parametrize(
    ("scheme", "name", "when"),
    [
        ("1-0-1", "twice daily", ("MORN", "EVE")),
        ("1-1-1", "three times daily", ("MORN", "NOON", "EVE")),
        ("1-0-0", "every morning", ("MORN",)),
        ("0-0-1", "every evening", ("EVE",)),
        ("2-0-1", "twice daily", ("MORN", "EVE")),
        ("1-1-1-1", "four times daily", ("MORN", "NOON", "EVE", "NIGHT")),
    ],
)
def test_dosing_schemes_read_as_doses_a_day_and_when(scheme: str, name: str, when: tuple[str, ...]) -> None:
    found = attributes.frequency(scheme)
    assert found is not None and (found.name, found.when) == (name, when)


def test_a_date_is_never_a_dosing_scheme() -> None:
    assert attributes.frequency("12-05-2024") is None
    assert not [m[1] for m in attributes.FREQUENCY.finditer("seen on 2024-05-12 and 12-05-2024")]


def test_every_extractor_writes_the_canonical_form() -> None:
    note = "Medications:\n- Metformin 500 mg p.o. 1-0-1\n- Furosemide 40 mg PO 2x daily\n- Salbutamol 100 mcg inh. p.r.n.\n"
    found = {
        e.text: e.attributes
        for e in clinex.extract(note, extractor="rules").entities
        if e.type == "medication"
    }
    assert found["Metformin"]["frequency"] == "twice daily" and found["Metformin"]["route"] == "oral"
    assert found["Furosemide"]["frequency"] == "twice daily"
    assert found["Salbutamol"] == {"dose": "100 ug", "route": "inhalation", "frequency": "as needed"}
