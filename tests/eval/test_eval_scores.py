import pytest

from clinex.eval.scores import PRFScore, macro, mean_defined


def test_counts_give_hand_computed_ratios() -> None:
    score = PRFScore(tp=2, fp=1, fn=3)
    assert score.precision == pytest.approx(2 / 3)
    assert score.recall == pytest.approx(2 / 5)
    assert score.fscore == pytest.approx(4 / 8)  # 2tp / (2tp + fp + fn)


def test_no_gold_and_no_predictions_is_undefined_not_zero() -> None:
    score = PRFScore()
    assert (score.precision, score.recall, score.fscore) == (None, None, None)


def test_no_predictions_has_no_precision_and_zero_recall() -> None:
    score = PRFScore(fn=4)
    assert score.precision is None
    assert score.recall == 0.0
    assert score.fscore == 0.0


def test_no_gold_has_no_recall_and_zero_precision() -> None:
    score = PRFScore(fp=2)
    assert score.precision == 0.0
    assert score.recall is None
    assert score.fscore == 0.0


def test_scores_add_up() -> None:
    total = PRFScore(1, 2, 3) + PRFScore(4, 5, 6)
    total += PRFScore(1, 1, 1)
    assert (total.tp, total.fp, total.fn) == (6, 8, 10)


def test_macro_averages_defined_labels_only() -> None:
    # label a: P 1, R 0.5, F 2/3; label b: P None, R 0, F 0
    result = macro([PRFScore(tp=1, fn=1), PRFScore(fn=2)])
    assert result["p"] == pytest.approx(1.0)
    assert result["r"] == pytest.approx(0.25)
    assert result["f"] == pytest.approx(1 / 3)
    assert macro([]) == {"p": None, "r": None, "f": None}
    assert mean_defined([None, None]) is None
