"""The code picker (search by code prefix and by text) and the code check (nearest codes)."""

from __future__ import annotations

import pytest

from clinex.core.errors import InputError, UnknownCodeError, UnknownNameError
from clinex.core.systems import ICD10CM, LOINC, RXNORM, SNOMED
from clinex.review import check_code, search_codes


def codes(results: list[dict[str, str]]) -> list[str]:
    return [r["code"] for r in results]


def test_a_code_prefix_finds_the_codes_under_it_shortest_first() -> None:
    found = search_codes("icd10cm", "E11", limit=5)
    assert codes(found)[0] == "E11" and len(found) == 5
    assert all(r["code"].startswith("E11") and r["system"] == ICD10CM for r in found)
    assert found[0]["display"] == "Type 2 diabetes mellitus"
    # Dots and case do not matter: what a reviewer types.
    assert codes(search_codes("icd10cm", "e119", limit=1)) == ["E11.9"]


def test_text_finds_codes_by_lookup_and_by_word_starts() -> None:
    assert "I10" in codes(search_codes("icd10cm", "essential hypertension"))
    typed = search_codes("icd10cm", "diab mell", limit=10)
    assert {"E10", "E11"} <= set(codes(typed))
    assert all("diabetes mellitus" in r["display"].lower() for r in typed)


def test_the_other_terminologies_by_name_or_system_uri() -> None:
    assert codes(search_codes(LOINC, "718-7")) == ["718-7"]
    assert "718-7" in codes(search_codes("loinc", "hemoglobin"))
    assert "6809" in codes(search_codes("rxnorm", "metformin"))
    assert search_codes(RXNORM, "metformin") == search_codes("rxnorm", "metformin")


def test_search_limits_and_empty_queries() -> None:
    assert search_codes("icd10cm", "   ") == []
    assert len(search_codes("icd10cm", "E", limit=1000)) == 100


def test_search_refuses_a_terminology_clinex_does_not_hold() -> None:
    with pytest.raises(UnknownNameError) as raised:
        search_codes("snomed", "asthma")
    assert "icd10cm" in (raised.value.hint or "")


def test_a_known_code_passes_the_check() -> None:
    check_code({"system": ICD10CM, "code": "E11.9", "display": "anything the reviewer typed"})
    check_code({"system": LOINC, "code": "718-7"})


def test_an_unknown_code_lists_its_prefix_neighbours() -> None:
    with pytest.raises(UnknownCodeError) as raised:
        check_code({"system": ICD10CM, "code": "E11.99"})
    nearest = codes(raised.value.nearest)
    assert 1 <= len(nearest) <= 5 and "E11.9" in nearest
    assert all(code.startswith("E11") for code in nearest)
    assert "E11.99" in raised.value.message
    # The undotted form is not the code, but it is the nearest one.
    with pytest.raises(UnknownCodeError) as undotted:
        check_code({"system": ICD10CM, "code": "E119"})
    assert undotted.value.nearest[0]["code"] == "E11.9"


def test_the_display_of_an_unknown_code_leads_the_nearest() -> None:
    with pytest.raises(UnknownCodeError) as raised:
        check_code({"system": ICD10CM, "code": "Z99.999", "display": "Essential hypertension"})
    assert raised.value.nearest[0] == {
        "system": ICD10CM,
        "code": "I10",
        "display": "Essential (primary) hypertension",
    }
    assert len(raised.value.nearest) <= 5


def test_a_system_clinex_holds_no_terminology_for_is_accepted_as_is() -> None:
    check_code({"system": SNOMED, "code": "195967001"})
    check_code({"system": "urn:hospital:local-codes", "code": "X-1"})


@pytest.mark.parametrize(
    "code", [{"system": ICD10CM}, {"code": "I10"}, {"system": ICD10CM, "code": 10}, "I10"]
)
def test_a_malformed_code_is_an_input_error(code: object) -> None:
    with pytest.raises(InputError):
        check_code(code)  # type: ignore[arg-type]
