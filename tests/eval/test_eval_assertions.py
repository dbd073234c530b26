import pytest

from clinex.core.types import Assertion
from clinex.eval.assertions import assertion_class, score_assertions


def test_class_precedence() -> None:
    assert assertion_class(Assertion()) == "affirmed"
    assert assertion_class(Assertion(negated=True, family=True)) == "negated"
    assert assertion_class(Assertion(family=True, historical=True)) == "family"
    assert assertion_class(Assertion(uncertain=True, historical=True)) == "uncertain"


def test_accuracy_confusion_and_per_class_f1_by_hand() -> None:
    negated, affirmed = Assertion(negated=True), Assertion()
    scores = score_assertions(
        [
            (negated, negated),
            (negated, affirmed),
            (affirmed, affirmed),
            (affirmed, negated),
            (affirmed, affirmed),
        ]
    )
    assert scores.total == 5
    assert scores.accuracy == pytest.approx(3 / 5)
    assert scores.confusion["negated"]["affirmed"] == 1
    negated_score = scores.class_scores()["negated"]
    assert (negated_score.tp, negated_score.fp, negated_score.fn) == (1, 1, 1)
    assert scores.class_scores()["family"].fscore is None  # never seen on either side
    assert scores.flags["negated"].fscore == pytest.approx(0.5)


def test_no_pairs_has_no_accuracy() -> None:
    assert score_assertions([]).accuracy is None
