"""The review policy: each rule firing and not, the reason naming every rule, auto-accept."""

from __future__ import annotations

from typing import Any

import pytest

from clinex.core.errors import ConfigError
from clinex.core.systems import ICD10CM, SNOMED
from clinex.review import Fact, FactReview, ReviewPolicy, open_reviews


def entity(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "condition",
        "text": "hypertension",
        "start": 0,
        "end": 12,
        "assertion": {"negated": False, "uncertain": False, "historical": False},
        "code": None,
        "attributes": {},
        "confidence": 0.8,
    }
    return base | changes


def test_the_default_policy_requires_nothing_and_accepts_nothing() -> None:
    assert ReviewPolicy().assess(entity(confidence=0.01)) == FactReview()
    assert ReviewPolicy.from_mapping(None) == ReviewPolicy() == ReviewPolicy.from_mapping({})


def test_confidence_below_the_threshold_requires_review() -> None:
    policy = ReviewPolicy.from_mapping({"review_below": 0.6})
    assert policy.assess(entity(confidence=0.41)) == FactReview(required=True, reason="confidence 0.41 < 0.6")
    assert not policy.assess(entity(confidence=0.6)).required, "the threshold itself is not below it"


def test_a_chosen_type_requires_review() -> None:
    policy = ReviewPolicy.from_mapping({"types": ["tumor", "medication"]})
    assert policy.assess(entity(type="tumor")) == FactReview(required=True, reason="type tumor")
    assert not policy.assess(entity(type="condition")).required


def test_a_chosen_assertion_flag_requires_review_only_when_set() -> None:
    policy = ReviewPolicy.from_mapping({"flags": ["negated", "uncertain"]})
    negated = entity(assertion={"negated": True, "uncertain": True})
    assert policy.assess(negated).reason == "assertion negated, uncertain"
    assert not policy.assess(entity(assertion={"historical": True})).required
    assert not policy.assess(entity(assertion={"negated": False})).required


def test_an_icd10cm_code_in_a_chosen_chapter_requires_review() -> None:
    policy = ReviewPolicy.from_mapping({"chapters": [9]})  # 9: circulatory system
    assert policy.chapters == ("I00-I99",)
    icd = {"system": ICD10CM, "code": "I10", "display": "Essential (primary) hypertension"}
    assert policy.assess(entity(code=icd)) == FactReview(required=True, reason="ICD-10-CM chapter I00-I99")
    assert not policy.assess(entity(code={"system": ICD10CM, "code": "E11.9"})).required
    # Only ICD-10-CM codes have chapters: the same string in another system is not one.
    assert not policy.assess(entity(code={"system": SNOMED, "code": "I10"})).required
    assert not policy.assess(entity(code=None)).required
    assert ReviewPolicy.from_mapping({"chapters": ["c00-d49"]}).chapters == ("C00-D49",)


def test_the_reason_names_every_rule_that_fired() -> None:
    policy = ReviewPolicy.from_mapping(
        {"review_below": 0.5, "types": ["condition"], "flags": ["negated"], "chapters": ["I00-I99"]}
    )
    fired = policy.assess(
        entity(confidence=0.3, assertion={"negated": True}, code={"system": ICD10CM, "code": "I10"})
    )
    assert fired.required and not fired.auto_accept
    assert (
        fired.reason == "confidence 0.30 < 0.5; type condition; assertion negated; ICD-10-CM chapter I00-I99"
    )


def test_auto_accept_only_when_no_rule_fires_and_confidence_is_high_enough() -> None:
    policy = ReviewPolicy.from_mapping({"types": ["tumor"], "auto_accept_above": 0.95})
    assert policy.assess(entity(confidence=0.95)) == FactReview(auto_accept=True)
    assert policy.assess(entity(confidence=0.949)) == FactReview()
    tumor = policy.assess(entity(type="tumor", confidence=0.99))
    assert tumor.required and not tumor.auto_accept, "a required fact is never auto-accepted"


def test_a_missing_or_unreadable_confidence() -> None:
    policy = ReviewPolicy.from_mapping({"review_below": 0.5})
    no_confidence = entity()
    del no_confidence["confidence"]
    assert not policy.assess(no_confidence).required, "JSONL's default confidence is 1.0"
    assert policy.assess(entity(confidence="high")).required, "unreadable: treated as no confidence"


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"review_below": 0.5, "review_beloww": 0.4}, "review_beloww"),
        ({"review_below": 1.5}, "review_below"),
        ({"review_below": True}, "review_below"),
        ({"auto_accept_above": "high"}, "auto_accept_above"),
        ({"types": ["tumour"]}, "tumour"),
        ({"flags": ["denied"]}, "denied"),
        ({"flags": {"negated": True}}, "flags"),
        ({"chapters": [23]}, "23"),
        ({"chapters": ["I00-I98"]}, "I00-I98"),
        ({"review_below": 0.8, "auto_accept_above": 0.5}, "auto_accept_above"),
    ],
)
def test_a_bad_config_is_a_config_error_naming_the_key_or_value(config: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError) as raised:
        ReviewPolicy.from_mapping(config)
    assert named in raised.value.message and raised.value.hint


def test_open_reviews_are_the_required_facts_still_pending() -> None:
    def fact(fact_id: str, *, required: bool, status: str) -> Fact:
        return Fact(
            id=fact_id,
            document="d1",
            position=0,
            version=1,
            entity=entity(),
            required=required,
            review_status=status,
        )

    facts = [
        fact("open", required=True, status="pending"),
        fact("decided", required=True, status="rejected"),
        fact("optional", required=False, status="pending"),
        fact("auto", required=False, status="auto_accepted"),
    ]
    assert [f.id for f in open_reviews(facts)] == ["open"]
