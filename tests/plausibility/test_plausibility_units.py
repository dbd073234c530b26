"""unit_mismatch on hand-made lab entities of hand-written notes."""

from __future__ import annotations

import pytest
from plausibility_notes import document, mention

from clinex.core.types import Entity
from clinex.plausibility import run_checks
from clinex.plausibility.units import expected_kinds, unit_kind

NOTE = (
    "Bloods on admission: Haemoglobin 12.1 g/dL, repeat Hb 7.5 mmol/L. Sodium 140 mmol/L.\n"
    "Potassium 4.1 mg. WBC 11.2 x10^9/L. Creatinine 85 umol/L. HbA1c 7.2 %. eGFR 45 mL/min/1.73m2.\n"
    "Lactate 18 mg/dL.\n"
)


def findings(entity: Entity) -> list[str]:
    return [f.message for f in run_checks(document(NOTE, entity)) if f.check == "unit_mismatch"]


@pytest.mark.parametrize(
    ("text", "code", "unit", "message"),
    [
        (
            "Haemoglobin",
            "718-7",
            "mg",
            "unit mg (mass) does not fit LOINC 718-7, a Mass/volume result",
        ),
        (
            "Potassium",
            "2823-3",
            "mg",
            "unit mg (mass) does not fit LOINC 2823-3, reported in meq/L or mmol/L",
        ),
        (
            "WBC",
            "6690-2",
            "g/L",
            "unit g/L (mass concentration) does not fit LOINC 6690-2, a #/volume result",
        ),
        (
            "Creatinine",
            "2160-0",
            "U/L",
            "unit U/L (catalytic concentration) does not fit LOINC 2160-0, reported in mg/dL or umol/L",
        ),
    ],
)
def test_a_unit_of_another_kind_than_the_analyte_is_flagged(
    text: str, code: str, unit: str, message: str
) -> None:
    assert findings(mention(NOTE, text, "lab", code=code, value="1", unit=unit)) == [message]


@pytest.mark.parametrize(
    ("text", "code", "unit"),
    [
        ("Haemoglobin", "718-7", "g/dL"),  # mass concentration, as the LOINC name says
        ("Hb", "718-7", "mmol/L"),  # substance concentration: a molar mass away
        ("Sodium", "2951-2", "mmol/L"),
        ("Lactate", "32693-4", "mg/dL"),  # a Moles/volume code in mass concentration
        ("WBC", "6690-2", "10*9/L"),
        ("Creatinine", "2160-0", "umol/L"),
        ("eGFR", "33914-3", "mL/min/{1.73_m2}"),
    ],
)
def test_a_unit_of_the_analyte_kind_is_not_flagged(text: str, code: str, unit: str) -> None:
    assert findings(mention(NOTE, text, "lab", code=code, value="1", unit=unit)) == []


@pytest.mark.parametrize(
    ("text", "code", "unit"),
    [
        ("Potassium", None, "mg"),  # no LOINC code: no analyte to compare with
        ("HbA1c", "4548-4", "mg"),  # a code whose kind neither the LOINC name nor labunits gives
        ("Sodium", "2951-2", "mmol/Lx"),  # not UCUM: the unit's kind is unknown
        ("Sodium", "99999-9", "mg"),  # a code outside the subset
    ],
)
def test_only_a_known_kind_against_a_known_kind_is_flagged(text: str, code: str | None, unit: str) -> None:
    assert findings(mention(NOTE, text, "lab", code=code, value="1", unit=unit)) == []


def test_unit_kinds_come_from_the_ucum_dimension() -> None:
    assert unit_kind("mg/dL") == "mass concentration"
    assert unit_kind("mmol/L") == "substance concentration"
    assert unit_kind("10*9/L") == "number concentration"
    assert unit_kind("m[IU]/L") == "arbitrary concentration"
    assert unit_kind("%") == unit_kind("mmol/mol") == "fraction or ratio"
    assert unit_kind("not a unit") is None
    kinds = expected_kinds("3016-3")  # Thyrotropin [Units/volume]: arbitrary or catalytic units
    assert kinds is not None and unit_kind("m[IU]/L") in kinds[0]
