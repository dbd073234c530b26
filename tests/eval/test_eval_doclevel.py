import pytest

from clinex.core.systems import ICD10CM
from clinex.core.types import Assertion, Code, Entity
from clinex.eval.doclevel import CODE_SETS, average_precision, code_set, ranked_codes, set_score


def coded(code: str, confidence: float = 1.0) -> Entity:
    return Entity(
        type="condition",
        text=code,
        alignment="none",
        code=Code(system=ICD10CM, code=code),
        confidence=confidence,
    )


DIAGNOSES = CODE_SETS["codes:diagnoses"]


def test_set_score_ignores_duplicates_and_dots() -> None:
    gold = code_set([coded("n44.8"), coded("N448"), coded("R31.9")], DIAGNOSES)
    pred = code_set([coded("N44.8"), coded("Z00")], DIAGNOSES)
    assert gold == {"N448", "R319"}
    score = set_score(gold, pred)
    assert (score.tp, score.fp, score.fn) == (1, 1, 1)


def test_ranking_uses_the_highest_confidence_per_code() -> None:
    pred = [coded("A01", 0.2), coded("B02", 0.9), coded("A01", 0.95), coded("C03", 0.9)]
    assert ranked_codes(pred, DIAGNOSES) == ["A01", "B02", "C03"]  # B02 before C03: tie keeps order


def test_average_precision_by_hand() -> None:
    # relevant at ranks 1 and 3: (1/1 + 2/3) / 2 gold codes
    assert average_precision(["A01", "X99", "B02"], {"A01", "B02"}) == pytest.approx((1 + 2 / 3) / 2)
    # a gold code never predicted still counts in the denominator
    assert average_precision(["A01"], {"A01", "B02"}) == pytest.approx(0.5)
    assert average_precision([], {"A01"}) == 0.0
    assert average_precision(["A01"], set()) is None


def test_negated_family_and_hypothetical_mentions_are_not_coded() -> None:
    mentions = [
        coded("A01").with_(assertion=Assertion(negated=True)),
        coded("B02").with_(assertion=Assertion(family=True)),
        coded("C03").with_(assertion=Assertion(hypothetical=True)),
        coded("D04").with_(assertion=Assertion(historical=True)),
        coded("E05").with_(assertion=Assertion(uncertain=True)),
    ]
    assert code_set(mentions, DIAGNOSES) == {"D04", "E05"}
    assert ranked_codes(mentions, DIAGNOSES) == ["D04", "E05"]
