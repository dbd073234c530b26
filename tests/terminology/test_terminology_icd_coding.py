import pytest

from clinex.core.types import Code, Entity
from clinex.terminology import icd10cm
from clinex.terminology.normalise import normalise


def _condition(text: str, code: Code | None = None) -> Entity:
    return Entity(type="condition", text=text, start=0, end=len(text), code=code)


def _coded(text: str) -> str | None:
    entity = normalise([_condition(text)], text)[0]
    return None if entity.code is None else entity.code.code


def test_display_without_bracketed_words_is_a_synonym() -> None:
    hit = icd10cm.load().lookup("Essential hypertension")[0]
    assert (hit.concept.code, hit.kind, hit.score) == ("I10", "synonym", 0.95)


def test_display_without_unspecified_qualifier_is_a_synonym() -> None:
    codes = {(m.concept.code, m.kind) for m in icd10cm.load().lookup("Acute bronchitis", limit=10)}
    assert ("J20.9", "synonym") in codes  # "Acute bronchitis, unspecified"
    # Only a final ", unspecified" is dropped: "..., unspecified, right ear" is no plain otitis.
    ears = {m.concept.code for m in icd10cm.load().lookup("Otitis media", limit=10)}
    assert ears == {"H66.9"}


@pytest.mark.parametrize(
    ("category", "leaf"),
    [
        ("J45", "J45.909"),  # Unspecified asthma, uncomplicated
        ("E11", "E11.9"),  # Type 2 diabetes mellitus without complications
        ("I50", "I50.9"),
        ("G43", "G43.909"),  # unspecified, not intractable, without status migrainosus
        ("H66.9", "H66.90"),  # unspecified ear
        ("N18.3", "N18.30"),  # the display's "(moderate)" is no qualifier
        ("T14.8", "T14.8XXA"),  # initial encounter
    ],
)
def test_category_becomes_its_single_default_leaf(category: str, leaf: str) -> None:
    assert icd10cm.billable(category) == leaf


@pytest.mark.parametrize("code", ["C50", "I26", "S93.4", "I10", "NOT-A-CODE"])
def test_code_is_kept_without_a_single_default_leaf(code: str) -> None:
    # C50: site and side unknown; I26: no unspecified leaf; I10: billable already.
    assert icd10cm.billable(code) == code


def test_normaliser_codes_billable_leaves_the_text_justifies() -> None:
    assert _coded("asthma") == "J45.909"
    assert _coded("Essential hypertension") == "I10"
    assert _coded("otitis media") == "H66.90"
    # The curated synonym names a leaf below the exactly matching category display.
    assert _coded("Pulmonary embolism") == "I26.99"
    assert _coded("Malignant neoplasm of breast") == "C50"
    # A fuzzy hit names no leaf; the category's default leaf is used.
    assert _coded("Concussion with no loss of consciousness") == "S06.0X0A"


def test_normaliser_refines_a_category_the_extractor_gave() -> None:
    given = Code(system=icd10cm.SYSTEM, code="J45", display="Asthma")
    entity = normalise([_condition("asthma", given)], "asthma")[0]
    assert entity.code == Code(
        system=icd10cm.SYSTEM, code="J45.909", display="Unspecified asthma, uncomplicated"
    )
    other = Code(system="urn:local", code="J45")
    assert normalise([_condition("asthma", other)], "asthma")[0].code == other
