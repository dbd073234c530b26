import pytest

from clinex.core.types import Code, Entity
from clinex.terminology.normalise import normalise
from clinex.terminology.ucum import Quantity, is_valid, normalise_unit, parse_quantity
from clinex.testing import assert_grounded


@pytest.mark.parametrize(
    ("written", "ucum"),
    [
        ("mg/dl", "mg/dL"),
        ("mmol/l", "mmol/L"),
        ("mEq/L", "meq/L"),
        ("mcg", "ug"),
        ("µmol/L", "umol/L"),
        ("x10^9/L", "10*9/L"),
        ("mmHg", "mm[Hg]"),
        ("ng/ml", "ng/mL"),
        ("%", "%"),
        ("U/L", "U/L"),
        ("IU/L", "[IU]/L"),
        ("mIU/mL", "m[IU]/mL"),
        ("kg/m²", "kg/m2"),
        ("u/l", "U/L"),  # enzyme units, not UCUM's atomic mass unit "u"
        ("K/uL", "10*3/uL"),
        ("mL/min/1.73m2", "mL/min/{1.73_m2}"),
    ],
)
def test_units_normalise_to_valid_ucum(written: str, ucum: str) -> None:
    assert normalise_unit(written) == ucum
    assert is_valid(ucum)


def test_invalid_units() -> None:
    assert normalise_unit("bananas") is None
    assert not is_valid("mg/dl ")


def test_a_unit_ucum_cannot_express_is_kept_as_written() -> None:
    lab = Entity(type="lab", text="CD4", start=0, end=3, attributes={"value": "350", "unit": "cells"})
    assert normalise([lab], "CD4 350 cells")[0].attributes["unit"] == "cells"


def test_parse_quantity() -> None:
    assert parse_quantity("500 mg") == Quantity(500.0, "mg")
    assert parse_quantity("7,2 mmol/l") == Quantity(7.2, "mmol/L")
    assert parse_quantity("1,200 mg") == Quantity(1200.0, "mg")  # thousands, not 1.2
    assert parse_quantity("12") == Quantity(12.0, "1")
    assert parse_quantity("three mg") is None


def test_normaliser_codes_entities_and_scales_confidence() -> None:
    text = "Known HTN and diabetes melitus type 2. Furosemide 40 mg daily. Hb 10 g/dl. Frobnication syndrome."
    entities = [
        Entity(type="condition", text="HTN", start=6, end=9, confidence=0.8),
        Entity(type="condition", text="diabetes melitus type 2", start=14, end=37, confidence=0.8),
        Entity(type="medication", text="Furosemide", start=39, end=49, attributes={"dose": "40 mg"}),
        Entity(type="lab", text="Hb", start=63, end=65, attributes={"value": "10", "unit": "g/dl"}),
        Entity(type="procedure", text="Known", start=0, end=5),
        Entity(type="condition", text="Frobnication syndrome", start=75, end=96, confidence=0.8),
    ]
    assert_grounded(text, entities, min_count=len(entities))
    out = normalise(entities, text)
    htn, dm, furosemide, hb, procedure, unknown = out
    assert htn.code == Code(
        system="http://hl7.org/fhir/sid/icd-10-cm", code="I10", display="Essential (primary) hypertension"
    )
    assert dm.code is not None and dm.code.code.startswith("E11")
    assert unknown.code is None
    # How a code was found orders confidence: a synonym costs a little, a fuzzy hit more, and an
    # uncoded condition keeps at most half of what the extractor gave.
    assert 0.8 > htn.confidence > dm.confidence > unknown.confidence
    assert unknown.confidence <= 0.8 / 2
    # "40 mg" with no dose form written: the ingredient, not the 40 MG Oral Tablet.
    assert furosemide.code is not None and furosemide.code.code == "4603"
    assert hb.code is not None and hb.code.code == "718-7"
    assert hb.attributes["unit"] == "g/dL"
    assert procedure.code is None and procedure.confidence == 1.0


def test_a_clinical_drug_needs_its_strength_and_dose_form_written() -> None:
    def code_of(text: str) -> str | None:
        (found,) = normalise([Entity(type="medication", text="furosemide", start=0, end=10)], text)
        return found.code.code if found.code is not None else None

    assert code_of("furosemide 40 mg tablet once daily") == "313988"  # Furosemide 40 MG Oral Tablet
    assert code_of("furosemide 40 mg once daily") == "4603"  # no form written: the ingredient
    assert code_of("furosemide 1234 mg tablet") == "4603"  # no such strength: never another one


def test_a_similar_drug_name_is_not_coded_as_another_drug():
    from clinex.core.types import Entity
    from clinex.terminology.normalise import normalise

    text = "Prednisolone 30 mg orally once daily."
    entity = Entity(type="medication", text="Prednisolone", start=0, end=12, attributes={"dose": "30 mg"})
    (coded,) = normalise([entity], text)
    assert coded.code is None  # the subset has no prednisolone; prednisone is another drug


def test_a_drug_the_subset_names_but_holds_no_ingredient_concept_for_is_uncoded_yet_not_doubted() -> None:
    # The subset knows acetaminophen only as products (325 MG Oral Tablet, combinations) and has
    # no ingredient concept: with no form written no code fits, so none is set, but the name is
    # the terminology's own, so the entity keeps its confidence; a name it does not know
    # (prednisolone) keeps at most half.
    from clinex.terminology import drugs

    coder = drugs.packaged_coder()
    assert coder.ingredients_named("acetaminophen") is not None
    assert not any(p.is_ingredient for p in coder.products if p.ingredients == {"acetaminophen"})
    text = "Acetaminophen 325 mg every 6 hours. Prednisolone 30 mg once daily."
    entities = [
        Entity(type="medication", text="Acetaminophen", start=0, end=13, confidence=0.9),
        Entity(type="medication", text="Prednisolone", start=36, end=48, confidence=0.9),
    ]
    assert_grounded(text, entities, min_count=2)
    acetaminophen, prednisolone = normalise(entities, text)
    assert acetaminophen.code is None and acetaminophen.confidence == 0.9
    assert prednisolone.code is None and prednisolone.confidence == 0.45


def test_a_salt_a_synonym_or_a_joined_combination_names_the_ingredients() -> None:
    from clinex.terminology import drugs

    coder = drugs.packaged_coder()
    # "doxycycline hyclate" is only a strength-less component in the subset: the salt written
    # still names doxycycline, whose products are monohydrates.
    assert coder.ingredients_named("doxycycline hyclate") == (frozenset({"doxycycline"}), 1.0)
    # listed for acetaminophen and for the acetaminophen/hydrocodone combination: acetaminophen
    named = coder.ingredients_named("paracetamol")
    assert named is not None and named[0] == {"acetaminophen"}
    named = coder.ingredients_named("Acetaminophen/Hydrocodone")
    assert named is not None and named[0] == {"acetaminophen", "hydrocodone"}
    # The salt written still chooses among products: hyclate is never the monohydrate tablet.
    text = "Doxycycline hyclate 100 mg tablet twice daily."
    (coded,) = normalise([Entity(type="medication", text="Doxycycline hyclate", start=0, end=19)], text)
    assert coded.code is None or coded.code.code != "1650142"
    assert coded.confidence == 1.0
