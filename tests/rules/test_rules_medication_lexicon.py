import csv
import gzip
import io
from importlib import resources

import pytest

import clinex
from clinex.core.types import Entity
from clinex.extractors.rules import RulesExtractor
from clinex.terminology import rxnorm

DISCHARGE_MEDS = """Medications on discharge:
- Prednisolone 30 mg orally once daily for 2 more days
- Apixaban 5 mg orally twice daily
- Tiotropium 18 mcg inhaled once daily
- Salbutamol 100 mcg inhaled every 4 hours as needed
- Eliquis 2.5 mg po bid
"""


@pytest.fixture(scope="module")
def medications() -> list[Entity]:
    found = clinex.extract(DISCHARGE_MEDS, extractor="rules").entities
    assert all(e.is_grounded_in(DISCHARGE_MEDS) for e in found)
    return [e for e in found if e.type == "medication"]


def _rows() -> list[dict[str, str]]:
    raw = (resources.files("clinex.extractors.rules") / "data" / "medications.tsv.gz").read_bytes()
    lines = (line for line in io.StringIO(gzip.decompress(raw).decode("utf-8")) if not line.startswith("#"))
    return list(csv.DictReader(lines, delimiter="\t"))


def _named(medications: list[Entity], name: str) -> Entity:
    hits = [e for e in medications if e.text == name]
    assert len(hits) == 1, f"{name} found {len(hits)} times"
    return hits[0]


def test_drugs_outside_the_rxnorm_subset_are_found_with_dose_route_frequency(
    medications: list[Entity],
) -> None:
    assert _named(medications, "Prednisolone").attributes == {
        "dose": "30 mg",
        "route": "oral",
        "frequency": "once daily",
    }
    assert _named(medications, "Apixaban").attributes == {
        "dose": "5 mg",
        "route": "oral",
        "frequency": "twice daily",
    }
    assert _named(medications, "Tiotropium").attributes == {
        "dose": "18 ug",  # the normaliser writes doses in UCUM
        "route": "inhalation",
        "frequency": "once daily",
    }
    assert _named(medications, "Salbutamol").attributes["route"] == "inhalation"


def test_brand_names_match_as_written(medications: list[Entity]) -> None:
    assert _named(medications, "Eliquis").attributes == {
        "dose": "2.5 mg",
        "route": "oral",
        "frequency": "twice daily",
    }


def test_lexicon_maps_brands_and_synonyms_to_canonical_names() -> None:
    canonical = {row["term"]: row["canonical"] for row in _rows()}
    assert canonical["eliquis"] == "apixaban"
    assert canonical["salbutamol"] == "albuterol"
    assert canonical["apixaban"] == "apixaban"
    assert len(canonical) > 5000


def test_everyday_words_and_short_names_are_left_out() -> None:
    terms = {row["term"] for row in _rows()}
    for word in (
        "oxygen",
        "ginger",
        "alcohol",
        "iron",
        "sugar",
        "relief",
        "insulin antibodies",
        "thyroid",
        "estrogen",
    ):
        assert word not in terms
    assert all(len(term) >= 4 for term in terms)


def test_everyday_words_are_not_medications() -> None:
    text = "He walked without oxygen and takes ginger tea; sugar intake is high."
    assert not [e for e in RulesExtractor().extract(text) if e.type == "medication"]


def test_a_synonym_is_coded_like_its_ingredient_and_no_code_is_invented() -> None:
    # salbutamol is albuterol, which the RxNorm subset holds; apixaban it does not.
    matches = rxnorm.load().lookup("salbutamol", limit=5, fuzzy=False)
    assert matches and all("albuterol" in m.concept.display.lower() for m in matches)
    assert not rxnorm.load().lookup("apixaban", limit=5, fuzzy=False)
    text = "Apixaban 5 mg orally twice daily."
    (apixaban,) = clinex.extract(text, extractor=RulesExtractor(types=("medication",))).entities
    assert apixaban.code is None


@pytest.mark.parametrize(
    ("curated", "built"),
    [("icd10cm_synonyms.tsv", "conditions.tsv.gz"), ("loinc_synonyms.tsv", "labs.tsv")],
)
def test_the_rules_lexicons_hold_every_curated_name(curated: str, built: str) -> None:
    """The curated names reach the rules only through scripts/build_lexicons.py: a name added to
    the terminology data without rebuilding would be coded by the encoder but never matched."""
    from clinex.extractors.rules.lexicon import _rows

    text = (resources.files("clinex.terminology") / "data" / curated).read_text(encoding="utf-8")
    rows = csv.DictReader((line for line in text.splitlines() if not line.startswith("#")), delimiter="\t")
    names = [row["term"] for row in rows]
    lexicon = {row["term"].lower() for row in _rows(built)}
    assert names and [n for n in names if n.lower() not in lexicon] == [], "run scripts/build_lexicons.py"
