"""Fitting calibrators: a constructed miscalibrated score set, method choice, refusals."""

from __future__ import annotations

import numpy as np
import pytest

from clinex.calibration.calibrator import POOLED, Calibrator, Curve
from clinex.calibration.fitting import MIN_PREDICTIONS, check, fit, labelled
from clinex.core.errors import ConfigError, EvaluationError
from clinex.core.types import Document, Entity
from clinex.corpora import Corpus
from clinex.eval.calibration import calibration

_WORD = "x"


def _corpora(
    scores: np.ndarray, correct: np.ndarray, *, per_doc: int = 10, entity_type: str = "condition", meta=None
) -> tuple[Corpus, Corpus]:
    """One prediction per score, ``per_doc`` to a note, each at its own span; the gold holds
    the entity exactly where it is correct (else a gold entity elsewhere, so recall is moot)."""
    gold_docs, pred_docs = {}, {}
    for start in range(0, len(scores), per_doc):
        doc_id = f"d{start // per_doc}"
        chunk = range(start, min(start + per_doc, len(scores)))
        text = " ".join(_WORD for _ in chunk) + " y"
        preds, golds = [], []
        for k, i in enumerate(chunk):
            span = (2 * k, 2 * k + 1)
            preds.append(
                Entity(type=entity_type, text=_WORD, start=span[0], end=span[1], confidence=float(scores[i]))
            )
            if correct[i]:
                golds.append(Entity(type=entity_type, text=_WORD, start=span[0], end=span[1]))
        golds.append(Entity(type=entity_type, text="y", start=len(text) - 1, end=len(text)))
        gold_docs[doc_id] = Document(id=doc_id, text=text, entities=golds)
        pred_docs[doc_id] = Document(id=doc_id, text=text, entities=preds, meta=dict(meta or {}))
    return (
        Corpus(documents=gold_docs, source="gold", format="jsonl"),
        Corpus(documents=pred_docs, source="pred", format="jsonl"),
    )


def _overconfident(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Scores whose true probability of being right is score**3: far too confident."""
    rng = np.random.default_rng(seed)
    scores = rng.uniform(0.0, 1.0, n)
    return scores, rng.uniform(0.0, 1.0, n) < scores**3


def test_labelled_marks_exactly_the_strict_matches() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    correct = np.array([True, False, True, False])
    gold, pred = _corpora(scores, correct, per_doc=2)
    found = labelled(gold, pred)["condition"]
    assert found.correct == [True, False, True, False]
    assert found.scores == pytest.approx(scores.tolist())
    assert found.docs == [0, 0, 1, 1]


def test_a_miscalibrated_score_set_is_calibrated_on_fresh_data_and_its_ranking_kept() -> None:
    gold, pred = _corpora(*_overconfident(3000, seed=1), meta={"extractor": "test.v1"})
    calibrator, fits = fit(gold, pred, method="isotonic")
    fresh_scores, fresh_correct = _overconfident(3000, seed=2)
    before = calibration(fresh_scores.tolist(), fresh_correct.tolist()).ece
    calibrated = calibrator.scores("condition", fresh_scores)
    after = calibration(calibrated.tolist(), fresh_correct.tolist()).ece
    assert before is not None and after is not None
    assert before > 0.15  # the constructed miscalibration: ~0.25
    assert after < 0.04
    order = np.argsort(fresh_scores, kind="stable")
    assert np.all(np.diff(calibrated[order]) >= -1e-12)  # never reorders two facts
    # And measured through check(), on held-out corpora:
    held_gold, held_pred = _corpora(fresh_scores, fresh_correct)
    measured = check(calibrator, held_gold, held_pred)
    assert measured.before["condition"].ece == pytest.approx(before)
    assert measured.after["condition"].ece == pytest.approx(after, abs=1e-3)
    assert calibrator.extractor == "test.v1"
    assert {f.name for f in fits} == {"condition", POOLED}


def test_auto_picks_the_method_with_the_lower_cross_fitted_ece() -> None:
    gold, pred = _corpora(*_overconfident(1500, seed=3), meta={"extractor": "test.v1"})
    calibrator, fits = fit(gold, pred, method="auto")
    by_name = {f.name: f for f in fits}
    crossed = by_name["condition"].ece_cross_fitted
    assert set(crossed) == {"isotonic", "platt"}
    assert by_name["condition"].method == min(crossed, key=lambda k: crossed[k] or 1.0)
    assert calibrator.curves["condition"].method == by_name["condition"].method
    # Cross-fitted ECE is measured on folds the curve did not see: above zero, below raw.
    assert 0 < (crossed[by_name["condition"].method] or 0) < (by_name["condition"].ece_raw or 0)


def test_a_type_with_too_few_predictions_uses_the_pooled_curve() -> None:
    scores, correct = _overconfident(600, seed=4)
    gold, pred = _corpora(scores, correct, meta={"extractor": "test.v1"})
    few_gold, few_pred = _corpora(
        scores[: MIN_PREDICTIONS - 10], correct[: MIN_PREDICTIONS - 10], entity_type="lab"
    )
    for doc_id, doc in few_gold.documents.items():
        gold.documents[f"lab-{doc_id}"] = doc
        pred.documents[f"lab-{doc_id}"] = few_pred.documents[doc_id]
        pred.documents[f"lab-{doc_id}"].meta = {"extractor": "test.v1"}
    calibrator, fits = fit(gold, pred)
    assert "lab" not in calibrator.curves
    assert calibrator.curve("lab") is calibrator.curves[POOLED]
    assert next(f for f in fits if f.name == "lab").method is None


def test_calibrated_predictions_are_refused() -> None:
    gold, pred = _corpora(
        *_overconfident(200, seed=5), meta={"extractor": "t", "calibration": {"digest": "x"}}
    )
    with pytest.raises(EvaluationError, match="calibrated confidences") as caught:
        fit(gold, pred)
    assert "--calibration none" in (caught.value.hint or "")


def test_an_unknown_extractor_and_an_unknown_method_are_refused() -> None:
    gold, pred = _corpora(*_overconfident(200, seed=6))
    with pytest.raises(EvaluationError, match="does not say which extractor"):
        fit(gold, pred)
    with pytest.raises(ConfigError, match="unknown calibration method"):
        fit(gold, pred, extractor="t", method="histogram")
    calibrator, _ = fit(gold, pred, extractor="rules.v2")
    assert calibrator.extractor == "rules.v2"


def test_too_little_data_is_a_clear_error() -> None:
    gold, pred = _corpora(np.array([0.5, 0.6]), np.array([True, False]), meta={"extractor": "t"})
    with pytest.raises(EvaluationError, match="too few predictions"):
        fit(gold, pred)


def test_types_the_gold_does_not_annotate_are_not_labelled() -> None:
    gold, pred = _corpora(np.array([0.5, 0.6]), np.array([True, False]))
    doc = next(iter(pred.documents.values()))
    doc.entities.append(Entity(type="tumor", text="x", start=0, end=1, confidence=0.9))
    assert set(labelled(gold, pred)) == {"condition"}


def test_curves_refuse_decreasing_or_out_of_range_points() -> None:
    with pytest.raises(ValueError, match="must not decrease"):
        Curve((0.0, 1.0), (0.8, 0.2))
    with pytest.raises(ValueError, match="lie in"):
        Curve((0.0, 1.0), (0.0, 1.2))
    with pytest.raises(ValueError):
        Calibrator(extractor="t", curves={})
