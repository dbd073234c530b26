"""Per-reviewer views and agreement, on decisions made by hand."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest

from clinex.review import (
    SYSTEM_REVIEWER,
    DecisionRecord,
    agreement,
    kappa,
    reviewer_view,
    reviewers,
    views_by_reviewer,
)

NOTE = "Known asthma. No fever. Metformin 500 mg twice daily. Mother had breast cancer."
_ids = count(1)


def entity(text: str, kind: str = "condition", *, occurrence: int = 0, **flags: bool) -> dict[str, Any]:
    start = NOTE.index(text)
    for _ in range(occurrence):
        start = NOTE.index(text, start + 1)
    return {
        "type": kind,
        "text": text,
        "start": start,
        "end": start + len(text),
        "alignment": "exact",
        "assertion": {
            "negated": False,
            "historical": False,
            "family": False,
            "uncertain": False,
            "hypothetical": False,
        }
        | flags,
        "code": None,
        "attributes": {},
        "confidence": 1.0,
    }


def decide(
    reviewer: str, fact: str, action: str, after: dict[str, Any] | None, document: str = "d1"
) -> DecisionRecord:
    return DecisionRecord(
        id=next(_ids),
        fact=fact,
        document=document,
        reviewer=reviewer,
        action=action,
        at="2024-05-01T10:00:00Z",
        version=2,
        before=None,
        after=after,
    )


ASTHMA = entity("asthma")
METFORMIN = entity("Metformin", "medication")
FEVER = entity("fever", negated=True)


def two_reviewers() -> list[DecisionRecord]:
    return [
        decide("ana", "f1", "accept", ASTHMA),
        decide("ben", "f1", "accept", ASTHMA),
        decide("ben", "f2", "accept", METFORMIN),
        decide("ana", "f2", "correct", entity("Metformin 500 mg", "medication")),
        decide("ben", "f3", "accept", FEVER),
        decide("ana", "f3", "reject", None),
        decide("ana", "f4", "add", entity("breast cancer", family=True)),
        # Only ana decided f5: ben never looked, so it is no judgement of his.
        decide("ana", "f5", "accept", entity("Mother")),
        decide(SYSTEM_REVIEWER, "f6", "accept", entity("daily", "medication")),
    ]


def test_a_view_is_what_the_reviewers_last_decisions_kept() -> None:
    records = [
        decide("ana", "f1", "accept", ASTHMA),
        decide("ana", "f1", "reject", None),
        decide("ana", "f2", "reject", None),
        decide("ana", "f2", "correct", METFORMIN),
        decide("ben", "f3", "accept", FEVER),
        decide("ana", "f4", "add", entity("breast cancer")),
        decide("ana", "f9", "accept", ASTHMA, document="other"),
    ]
    view = reviewer_view(reversed(records), "ana", document="d1")  # taken by id, in any order
    assert set(view.facts) == {"f2", "f4"}, "f1's last decision is a reject; f3 is ben's"
    assert view.facts["f2"] == METFORMIN
    assert view.actions == {"f1": "reject", "f2": "correct", "f4": "add"}
    assert view.added == frozenset({"f4"}) and view.decided == frozenset({"f1", "f2", "f4"})


def test_reviewers_leave_the_review_policy_out_unless_asked() -> None:
    records = two_reviewers()
    assert reviewers(records) == ["ana", "ben"]
    assert reviewers(records, system=True) == ["ana", "ben", SYSTEM_REVIEWER]
    assert set(views_by_reviewer(records, document="d1")) == {"ana", "ben"}


def test_exact_and_overlap_f1_differ_and_disagreements_are_side_by_side() -> None:
    result = agreement({"d1": two_reviewers()}, "ana", "ben")
    doc = result["documents"]["d1"]
    # Compared: f1, f2, f3 (both decided) and f4 (ana's addition); not f5 (ben never decided it).
    # ana kept f1, f2 (corrected), f4; ben kept f1, f2, f3.
    assert doc["counts"] == {"a": 3, "b": 3, "exact": 1, "overlap": 2, "compared_facts": 4}
    assert doc["f1"] == {"exact": pytest.approx(2 / 6, abs=1e-4), "overlap": pytest.approx(4 / 6, abs=1e-4)}
    rows = {(row["a_fact"], row["b_fact"]): row for row in doc["disagreements"]}
    assert set(rows) == {("f2", "f2"), (None, "f3"), ("f4", None)}
    assert rows["f2", "f2"]["differs"] == ["end", "text"]
    assert (
        rows["f2", "f2"]["a"]["text"] == "Metformin 500 mg" and rows["f2", "f2"]["b"]["text"] == "Metformin"
    )
    assert rows[None, "f3"]["a_action"] == "reject"
    assert rows[None, "f3"]["b_action"] == "accept" and rows[None, "f3"]["differs"] == ["presence"]
    assert rows["f4", None]["a_action"] == "add" and rows["f4", None]["b_action"] is None
    assert result["disagreements"] == doc["disagreements"]
    # Two matched pairs, no flag set on either side: κ has no variation to measure.
    negated = doc["kappa"]["negated"]
    assert (
        negated["kappa"] is None
        and negated["observed"] == 1.0
        and "chance agreement is 1" in negated["undefined"]
    )


def test_the_same_span_added_twice_matches_exactly_across_fact_ids() -> None:
    records = [
        decide("ana", "f1", "add", entity("asthma")),
        decide("ben", "f2", "add", entity("asthma")),
    ]
    doc = agreement({"d1": records}, "ana", "ben")["documents"]["d1"]
    assert doc["counts"]["exact"] == doc["counts"]["overlap"] == 1 and doc["f1"]["exact"] == 1.0
    assert doc["disagreements"] == []


def test_a_changed_type_is_one_row_not_two_presences() -> None:
    records = [
        decide("ben", "f1", "accept", ASTHMA),
        decide("ana", "f1", "correct", entity("asthma", "procedure")),
    ]
    doc = agreement({"d1": records}, "ana", "ben")["documents"]["d1"]
    assert doc["counts"]["overlap"] == 0 and doc["f1"]["overlap"] == 0.0
    (row,) = doc["disagreements"]
    assert row["a_fact"] == row["b_fact"] == "f1" and row["differs"] == ["type"]


def test_kappa_on_a_table_computed_by_hand() -> None:
    # n = 50, observed = 35/50 = 0.7; A sets 25/50, B 30/50: expected = .5·.6 + .5·.4 = 0.5;
    # κ = (0.7 − 0.5) / (1 − 0.5) = 0.4.
    result = kappa(20, 5, 10, 15)
    assert result["kappa"] == pytest.approx(0.4) and result["observed"] == 0.7 and result["expected"] == 0.5
    assert result["undefined"] is None and result["n"] == 50
    assert (
        kappa(0, 0, 0, 0)["kappa"] is None and kappa(0, 0, 0, 0)["undefined"] == "no matched pairs to compare"
    )
    assert kappa(4, 0, 0, 0)["kappa"] is None, "all set on both sides: chance agreement is 1"
    assert kappa(2, 0, 0, 2)["kappa"] == 1.0


def test_kappa_per_flag_over_matched_pairs_pooled_over_documents() -> None:
    # negated over five matched pairs: both 2 (asthma, fever), only A 1 (Metformin), neither 2.
    # observed 4/5; A 3/5, B 2/5: expected .6·.4 + .4·.6 = 0.48; κ = 0.32 / 0.52 = 0.6154.
    first = [
        decide("ana", "f1", "accept", entity("asthma", negated=True)),
        decide("ben", "f1", "accept", entity("asthma", negated=True)),
        decide("ben", "f2", "accept", entity("Metformin", "medication")),
        decide("ana", "f2", "correct", entity("Metformin", "medication", negated=True)),
        decide("ana", "f3", "accept", FEVER),
        decide("ben", "f3", "accept", FEVER),
    ]
    second = [
        decide("ana", "g1", "accept", ASTHMA, document="d2"),
        decide("ben", "g1", "accept", ASTHMA, document="d2"),
        decide("ana", "g2", "accept", entity("breast cancer"), document="d2"),
        decide("ben", "g2", "accept", entity("breast cancer"), document="d2"),
    ]
    only_ana = [decide("ana", "h1", "accept", ASTHMA, document="d3")]
    result = agreement({"d1": first, "d2": second, "d3": only_ana}, "ana", "ben")
    overall = result["overall"]
    assert overall["documents"] == 2 and result["skipped"] == {"d3": "not reviewed by ben"}
    assert overall["counts"] == {"a": 5, "b": 5, "exact": 5, "overlap": 5, "compared_facts": 5}
    negated = overall["kappa"]["negated"]
    assert negated["table"] == {"both": 2, "a_only": 1, "b_only": 0, "neither": 2}
    assert negated["kappa"] == pytest.approx(0.32 / 0.52, abs=1e-4)
    assert result["documents"]["d2"]["kappa"]["negated"]["kappa"] is None, "no flag varies in d2"
    assert [row["differs"] for row in result["disagreements"]] == [["assertion"]]
