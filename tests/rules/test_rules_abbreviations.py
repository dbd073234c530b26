"""Curated abbreviations, receptor status and bare findings of the rules lexicon."""

import csv
from importlib import resources

import pytest
import simple_icd_10_cm as cm

import clinex
from clinex.core.types import Entity
from clinex.extractors.rules.lexicon import _plural


def _rows(name: str) -> list[dict[str, str]]:
    text = (resources.files("clinex.extractors.rules") / "data" / name).read_text(encoding="utf-8")
    return list(
        csv.DictReader((line for line in text.splitlines() if not line.startswith("#")), delimiter="\t")
    )


@pytest.mark.parametrize("name", ["abbreviations.tsv", "findings.tsv"])
def test_every_curated_condition_code_is_an_icd10cm_code(name: str) -> None:
    for row in _rows(name):
        if row.get("type", "condition") == "condition" and row["code"]:
            assert cm.is_valid_item(row["code"]), row


def _coded(note: str) -> dict[str, Entity]:
    return {e.text: e for e in clinex.extract(note, extractor="rules").entities}


def test_abbreviations_are_coded_with_their_expansion_and_keep_their_type() -> None:
    found = _coded("hx HTN, DM2, CHF, COPD. AKI on CKD. c/o CP and SOB. Na 134, K 5.3.")
    expected = {"HTN": "I10", "DM2": "E11.9", "CHF": "I50.9", "COPD": "J44.9", "AKI": "N17.9", "CP": "R07.9"}
    for text, code in expected.items():
        entity = found[text]
        assert entity.type == "condition" and entity.code is not None and entity.code.code == code, text
    assert "hypertension" in (found["HTN"].code.display or "").lower()  # type: ignore[union-attr]
    assert "chest pain" in (found["CP"].code.display or "").lower()  # type: ignore[union-attr]
    assert found["Na"].type == "lab" and found["Na"].attributes["value"] == "134"
    assert found["K"].type == "lab" and found["K"].attributes["value"] == "5.3"


def test_receptor_status_is_a_finding_with_its_polarity_not_a_negated_receptor() -> None:
    found = _coded("Invasive ductal carcinoma, ER positive, PR negative, HER2 negative.")
    codes = {text: (e.code.code if e.code else None, e.assertion.negated) for text, e in found.items()}
    assert codes["ER positive"] == ("Z17.0", False)
    assert codes["PR negative"] == ("Z17.22", False)
    assert codes["HER2 negative"] == ("Z17.32", False)


def test_room_air_is_not_rheumatoid_arthritis_and_nkda_is_no_lab() -> None:
    found = _coded("Sats 95% on RA. NKDA.")
    assert "RA" not in found and "NKDA" not in found


def test_bare_findings_and_plurals_are_conditions() -> None:
    found = _coded("No rales or rhonchi. Bilateral pleural effusions. c/o weakness.")
    for text in ("rales", "rhonchi", "pleural effusions", "weakness"):
        assert found[text].type == "condition", text
    assert found["pleural effusions"].assertion.negated is False
    assert found["rhonchi"].assertion.negated


def test_plurals_are_formed_only_where_english_forms_them_by_rule() -> None:
    assert _plural("pleural effusion") == "pleural effusions"
    assert _plural("abnormality") == "abnormalities"
    assert _plural("abscess") == "abscesses"
    assert _plural("stenosis") is None and _plural("embolus") is None and _plural("diabetes") is None
