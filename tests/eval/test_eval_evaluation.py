from pathlib import Path

import pytest

from clinex.core.errors import ConfigError, EvaluationError
from clinex.core.systems import ICD10CM
from clinex.core.types import Assertion, Code, Document, Entity
from clinex.corpora import Corpus
from clinex.eval import EvalOptions, evaluate, evaluate_paths

NOTE = "Medications: metformin 500 mg daily.\nAssessment: no chest pain. Type 2 diabetes. Cough."


def span(text: str, type_: str = "condition", **kwargs: object) -> Entity:
    start = NOTE.index(text)
    return Entity(type=type_, text=text, start=start, end=start + len(text), **kwargs)  # type: ignore[arg-type]


def corpus(docs: dict[str, list[Entity]], *, name: str = "c", text: str = NOTE) -> Corpus:
    return Corpus(
        documents={d: Document(id=d, text=text, entities=e) for d, e in docs.items()},
        source=name,
        format="jsonl",
        locations={d: f"{name}:{i}" for i, d in enumerate(docs, start=1)},
    )


DIABETES = Code(system=ICD10CM, code="E11.9")
GOLD = corpus(
    {
        "a": [
            span("metformin", "medication", attributes={"dose": "500 mg"}),
            span("chest pain", assertion=Assertion(negated=True)),
            span("Type 2 diabetes", code=DIABETES),
        ],
        "b": [span("Cough")],
    },
    name="gold",
)
PRED = corpus(
    {
        "a": [
            span("metformin", "medication", attributes={"dose": "1000 mg"}, confidence=0.9),
            span("chest pain", confidence=0.6),  # right span, assertion missed
            span("Type 2 diabetes", code=Code(system=ICD10CM, code="E11.65"), confidence=0.8),
            span("daily", "medication", confidence=0.3),  # spurious
        ],
        "b": [],
    },
    name="pred",
)
OPTIONS = EvalOptions(bootstrap=50, seed=3)


def test_hand_computed_categories() -> None:
    run = evaluate(GOLD, PRED, OPTIONS).runs[0]
    entities = run.categories["entities"].micro
    assert (entities.tp, entities.fp, entities.fn) == (3, 1, 1)
    assert run.categories["entities"].micro.fscore == pytest.approx(6 / 8)
    diagnoses = run.categories["diagnoses"].micro
    assert (diagnoses.tp, diagnoses.fp, diagnoses.fn) == (0, 1, 1)
    assert run.categories["diagnoses:3char"].micro.tp == 1
    assert run.categories["attribute:dose"].micro.tp == 0
    assert run.categories["codes:diagnoses"].map == 0.0
    assert run.not_evaluated["tumour"] == "gold has no tumor entities" and "tumour" not in run.categories
    # macro over entity types: condition (P 1, R 2/3), medication (P 1/2, R 1)
    assert run.categories["entities"].macro["p"] == pytest.approx(0.75)
    assert run.categories["entities"].macro["r"] == pytest.approx(5 / 6)


def test_assertion_slices_calibration_and_examples() -> None:
    run = evaluate(GOLD, PRED, OPTIONS).runs[0]
    assert run.assertion is not None
    assert run.assertion.accuracy == pytest.approx(2 / 3)
    assert run.assertion.confusion["negated"]["affirmed"] == 1
    negated = run.slices["slice:assertion:negated"].micro
    assert (negated.tp, negated.fp, negated.fn) == (1, 0, 0)  # matched span counts where the gold is
    affirmed = run.slices["slice:assertion:affirmed"].micro
    assert (affirmed.tp, affirmed.fp, affirmed.fn) == (2, 1, 1)
    assert {"slice:section:medications", "slice:length:<1000"} <= set(run.slices)
    assert run.calibration is not None and run.calibration.count == 4
    kinds = {(e.kind, e.span) for e in run.examples}
    assert kinds == {("missed", "Cough"), ("spurious", "daily"), ("assertion", "chest pain")}


def test_intervals_bracket_the_point_and_are_reproducible() -> None:
    first = evaluate(GOLD, PRED, OPTIONS).runs[0]
    again = evaluate(GOLD, PRED, OPTIONS).runs[0]
    assert first.metrics() == again.metrics()
    low, high = first.categories["entities"].ci["f"]  # type: ignore[misc]
    assert low <= 0.75 <= high


def test_comparison_has_paired_tests_against_the_first_run() -> None:
    report = evaluate(GOLD, {"pred": PRED, "perfect": GOLD}, OPTIONS)
    test = next(t for t in report.tests if t.category == "entities")
    assert (test.baseline, test.other) == ("pred", "perfect")
    assert test.delta == pytest.approx(1 - 0.75)
    assert report.to_dict()["runs"]["perfect"]["metrics"]["entities.f"] == 1.0


def test_strict_lenient_and_normalised_modes_differ() -> None:
    pred = corpus({"a": [span("no chest pain")], "b": [span("Cough")]})
    gold = corpus({"a": [span("chest pain")], "b": [span("Cough")]})
    scores = {
        mode: evaluate(gold, pred, EvalOptions(match=mode, bootstrap=0))
        .runs[0]
        .categories["entities"]
        .micro.tp
        for mode in ("strict", "lenient", "normalised")
    }
    assert scores == {"strict": 1, "lenient": 2, "normalised": 1}


def test_no_gold_and_no_predictions_is_reported_not_zero() -> None:
    empty = corpus({"a": []})
    run = evaluate(empty, corpus({"a": []}), OPTIONS).runs[0]
    assert run.categories == {}
    assert run.not_evaluated["entities"] == "gold has no entities"
    # Types the options name are annotated: nothing on either side is unscored, not zero ...
    named = EvalOptions(bootstrap=0, types=("condition",))
    assert "entities:condition" in evaluate(empty, corpus({"a": []}), named).runs[0].unscored
    # ... and a prediction against a gold that annotates none is a false positive.
    run = evaluate(empty, corpus({"a": [span("Cough")]}), named).runs[0]
    assert run.metrics()["entities.p"] == 0.0
    assert run.metrics()["entities.r"] is None


def test_misaligned_ids_name_the_offending_lines() -> None:
    pred = corpus({"a": [], "zzz": []}, name="pred.jsonl")
    with pytest.raises(EvaluationError) as error:
        evaluate(GOLD, pred, OPTIONS)
    message = str(error.value)
    assert "pred.jsonl:2 (id 'zzz' is not in the gold)" in message
    assert "gold:2 (id 'b' has no prediction record)" in message


def test_different_note_text_is_refused() -> None:
    pred = corpus({"a": [], "b": []}, text="another note")
    with pytest.raises(EvaluationError, match="note 'a' differs"):
        evaluate(GOLD, pred, OPTIONS)


def test_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="level"):
        EvalOptions(level=1.5)
    with pytest.raises(ConfigError, match="bootstrap"):
        EvalOptions(bootstrap=-1)


def test_codiesp_code_sets_with_ranked_predictions(tmp_path: Path) -> None:
    (tmp_path / "goldD.tsv").write_text("S1\ta01\nS1\tb02.1\nS2\tc03\n")
    (tmp_path / "predD.tsv").write_text(
        "S1\tA01\t0.9\nS1\tX99\t0.8\nS1\tB021\t0.5\n"
    )  # S2: nothing predicted
    report = evaluate_paths(tmp_path / "goldD.tsv", {"ranked": tmp_path / "predD.tsv"}, options=OPTIONS)
    codes = report.runs[0].categories["codes:diagnoses"]
    assert (codes.micro.tp, codes.micro.fp, codes.micro.fn) == (2, 1, 1)
    assert codes.map == pytest.approx(((1 + 2 / 3) / 2 + 0.0) / 2)
    assert "entities" not in report.runs[0].categories  # no spans in the gold: span scores would mean nothing


def test_calibration_is_also_reported_per_predicted_type() -> None:
    text = "asthma and metformin and sepsis"
    gold = Corpus(
        documents={
            "d": Document(
                id="d",
                text=text,
                entities=[
                    Entity(type="condition", text="asthma", start=0, end=6),
                    Entity(type="medication", text="metformin", start=11, end=20),
                ],
            )
        },
        source="gold",
        format="jsonl",
    )
    pred = Corpus(
        documents={
            "d": Document(
                id="d",
                text=text,
                entities=[
                    Entity(type="condition", text="asthma", start=0, end=6, confidence=0.9),  # right
                    Entity(type="condition", text="sepsis", start=25, end=31, confidence=0.8),  # wrong
                    Entity(type="medication", text="metformin", start=11, end=20, confidence=0.5),  # right
                ],
            )
        },
        source="pred",
        format="jsonl",
    )
    run = evaluate(gold, pred, EvalOptions(bootstrap=0)).runs[0]
    by_type = run.calibration_by_type
    # condition: bin 0.9 holds one right at 0.9 (gap 0.1), bin 0.8 one wrong at 0.8 (gap 0.8) -> 0.45
    assert by_type["condition"].ece == pytest.approx(0.45)
    assert by_type["medication"].ece == pytest.approx(0.5)  # one right at 0.5
    assert run.calibration is not None and run.calibration.ece == pytest.approx((0.1 + 0.8 + 0.5) / 3)
    metrics = run.metrics()
    assert metrics["calibration:condition.ece"] == pytest.approx(0.45)
    assert metrics["calibration:medication.count"] == 1
    assert set(run.to_dict()["calibration_by_type"]) == {"condition", "medication"}
