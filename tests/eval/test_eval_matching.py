import pytest

from clinex.core.errors import ConfigError
from clinex.core.systems import ICD10CM
from clinex.core.types import Code, Entity
from clinex.eval.categories import CATEGORIES
from clinex.eval.matching import check_mode, match

NOTE = "Metformin 500 mg daily. No chest pain. Type 2 diabetes."


def ent(start: int, end: int, type_: str = "condition", **kwargs: object) -> Entity:
    return Entity(type=type_, text=NOTE[start:end], start=start, end=end, **kwargs)  # type: ignore[arg-type]


ENTITIES = CATEGORIES["entities"]


def test_strict_needs_identical_spans() -> None:
    gold = [ent(27, 37)]  # "chest pain"
    pred = [ent(24, 37)]  # "No chest pain"
    assert match(gold, pred, ENTITIES, "strict").score().to_dict() == {
        "p": 0.0, "r": 0.0, "f": 0.0, "tp": 0, "fp": 1, "fn": 1,
    }  # fmt: skip
    assert match(gold, pred, ENTITIES, "lenient").score().tp == 1


def test_lenient_needs_overlap_and_same_type() -> None:
    gold = [ent(27, 37)]
    assert match(gold, [ent(37, 40)], ENTITIES, "lenient").score().tp == 0  # touching, not overlapping
    assert match(gold, [ent(27, 37, "procedure")], ENTITIES, "lenient").score().tp == 0


def test_normalised_compares_folded_text_anywhere() -> None:
    gold = [Entity(type="condition", text="Chest-pain", start=0, end=10)]
    pred = [Entity(type="condition", text="chest pain", start=50, end=60)]
    assert match(gold, pred, ENTITIES, "normalised").score().tp == 1
    assert match(gold, pred, ENTITIES, "strict").score().tp == 0


def test_duplicate_prediction_counts_once() -> None:
    doc = match(
        [ent(0, 9, "medication")], [ent(0, 9, "medication"), ent(0, 9, "medication")], ENTITIES, "strict"
    )
    assert (doc.score().tp, doc.score().fp, doc.score().fn) == (1, 1, 0)


def test_overlapping_spans_get_a_maximum_one_to_one_matching() -> None:
    # gold A [0,10) overlaps p0 [5,12) by 5 and p1 [0,3) by 3; gold B [10,14) overlaps only p0.
    # Taking A's best overlap first would leave B unmatched; the maximum matching pairs both.
    gold = [
        Entity(type="condition", text="x" * 10, start=0, end=10),
        Entity(type="condition", text="y" * 4, start=10, end=14),
    ]
    pred = [
        Entity(type="condition", text="z" * 7, start=5, end=12),
        Entity(type="condition", text="w" * 3, start=0, end=3),
    ]
    doc = match(gold, pred, ENTITIES, "lenient")
    assert doc.pairs == [(0, 1), (1, 0)]
    assert doc.score().tp == 2


def test_gold_without_span_matches_on_key_only() -> None:
    code = Code(system=ICD10CM, code="e11.9")
    gold = [Entity(type="condition", text="e11.9", alignment="none", code=code)]
    pred = [ent(39, 54, code=Code(system=ICD10CM, code="E119"))]
    assert match(gold, pred, CATEGORIES["diagnoses"], "strict").score().tp == 1


def test_ungrounded_prediction_never_matches_a_span_strictly() -> None:
    gold = [ent(39, 54)]
    pred = [Entity(type="condition", text="Type 2 diabetes", alignment="none")]
    assert match(gold, pred, ENTITIES, "strict").score().tp == 0
    assert match(gold, pred, ENTITIES, "lenient").score().tp == 0
    assert match(gold, pred, ENTITIES, "normalised").score().tp == 1


def test_code_categories_compare_codes_and_3_character_groups() -> None:
    gold = [ent(39, 54, code=Code(system=ICD10CM, code="E11.9"))]
    pred = [ent(39, 54, code=Code(system=ICD10CM, code="E11.65"))]
    assert match(gold, pred, CATEGORIES["diagnoses"], "strict").score().tp == 0
    assert match(gold, pred, CATEGORIES["diagnoses:3char"], "strict").score().tp == 1


def test_attribute_categories_compare_normalised_values() -> None:
    gold = [ent(0, 9, "medication", attributes={"dose": "500 mg", "frequency": "daily"})]
    pred = [ent(0, 9, "medication", attributes={"dose": "500 MG"})]
    assert match(gold, pred, CATEGORIES["attribute:dose"], "strict").score().tp == 1
    frequency = match(gold, pred, CATEGORIES["attribute:frequency"], "strict").score()
    assert (frequency.tp, frequency.fp, frequency.fn) == (0, 0, 1)
    assert match(gold, pred, CATEGORIES["medications+dose"], "strict").score().tp == 1


@pytest.mark.parametrize(
    ("category", "gold", "predicted", "same"),
    [
        ("medications+dose", {"dose": "325mg"}, {"dose": "325 mg"}, True),
        ("medications+dose", {"dose": "0,1mg/ml"}, {"dose": "0.1 mg/mL"}, True),
        ("medications+dose", {"dose": "125 µg"}, {"dose": "125 ug"}, True),
        ("medications+dose", {"dose": "325mg"}, {"dose": "32 mg"}, False),
        ("attribute:unit", {"unit": "bpm"}, {"unit": "/min"}, True),
        ("attribute:unit", {"unit": "°C"}, {"unit": "Cel"}, True),
        ("attribute:unit", {"unit": "mg/dl"}, {"unit": "mmol/L"}, False),
    ],
)
def test_doses_and_units_compare_in_their_ucum_spelling(
    category: str, gold: dict[str, str], predicted: dict[str, str], same: bool
) -> None:
    type_ = "lab" if category == "attribute:unit" else "medication"
    score = match(
        [ent(0, 9, type_, attributes=gold)],
        [ent(0, 9, type_, attributes=predicted)],
        CATEGORIES[category],
        "strict",
    ).score()
    assert score.tp == int(same)


def test_label_scores_split_counts_by_key() -> None:
    gold = [ent(0, 9, "medication"), ent(27, 37)]
    pred = [ent(0, 9, "medication"), ent(39, 54)]
    labels = match(gold, pred, ENTITIES, "strict").label_scores()
    assert (labels["medication"].tp, labels["condition"].fp, labels["condition"].fn) == (1, 1, 1)


def test_unknown_mode_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="fuzzy"):
        check_mode("fuzzy")
