from collections.abc import Sequence
from pathlib import Path

import pytest

from clinex.core.errors import EvaluationError
from clinex.core.types import Assertion, Entity
from clinex.corpora import read_negex_rows
from clinex.eval.negex_eval import evaluate_negex

HEADER = "id\treport\tcondition\tsentence\tnegation\ttemporality\texperiencer"


def no_before(sentence: str, entities: Sequence[Entity]) -> list[Entity]:
    """A toy rule: 'no' anywhere before the target negates it; 'history' makes it historical."""
    out = []
    for e in entities:
        before = sentence[: e.start].lower()
        out.append(e.with_(assertion=Assertion(negated="no " in before, historical="history" in before)))
    return out


def test_per_flag_counts_by_hand(tmp_path: Path) -> None:
    path = tmp_path / "n.tsv"
    rows = [
        "1\t \tpain\tNo pain today.\tNegated\tRecent\tPatient",  # negated: tp
        "3\t \tcough\tCough, no fever.\tNegated\tRecent\tPatient",  # negated: fn
        "5\t \tfever\tNo cough but fever.\tAffirmed\tRecent\tPatient",  # negated: fp
        "7\t \tasthma\tHistory of asthma.\tAffirmed\tHistorical\tPatient",  # historical: tp
        "9\t \tcancer\tMother had cancer.\tAffirmed\tRecent\tFamily member",  # family: fn
        "11\t \tgone\tNot in sentence.\tAffirmed\tRecent\tPatient",  # cannot be located: skipped
    ]
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    scores = evaluate_negex(no_before, path)
    assert scores.rows == 5
    assert scores.skipped == ["11"]
    negated = scores.flags["negated"]
    assert (negated.tp, negated.fp, negated.fn) == (1, 1, 1)
    assert scores.flags["historical"].fscore == 1.0
    assert scores.flags["family"].recall == 0.0
    assert scores.flags["hypothetical"].fscore is None


def test_on_the_shared_rows_an_oracle_scores_one(shared_data: Path) -> None:
    data = shared_data / "negex" / "dev.tsv"
    rows = {row.id: row for row in read_negex_rows(data)[:40]}

    def oracle(sentence: str, entities: Sequence[Entity]) -> list[Entity]:
        row = next(r for r in rows.values() if r.sentence == sentence)
        return [e.with_(assertion=row.assertion) for e in entities]

    scores = evaluate_negex(oracle, data, limit=40)
    assert scores.rows + len(scores.skipped) == 40
    assert scores.flags["negated"].tp == sum(
        r.assertion.negated for r in rows.values() if r.id not in scores.skipped
    )
    assert scores.flags["negated"].fscore == 1.0


def test_a_method_must_return_one_entity_per_target(tmp_path: Path) -> None:
    path = tmp_path / "n.tsv"
    path.write_text(f"{HEADER}\n1\t \tpain\tNo pain.\tNegated\tRecent\tPatient\n")
    with pytest.raises(EvaluationError, match="row 1: the assertion method returned 0 entities"):
        evaluate_negex(lambda _s, _e: [], path)
