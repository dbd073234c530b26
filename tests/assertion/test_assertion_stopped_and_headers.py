import re

import clinex
from clinex.assertion import assert_entities
from clinex.core.types import Assertion, Entity

SOCIAL_AND_FAMILY = (
    "Social and family history: Ex-smoker with a 40 pack-year history. He lives with his wife. "
    "His mother had breast cancer.\n"
)


def _flags(text: str, target: str, kind: str = "condition", *, learned: bool = True) -> Assertion:
    found = re.search(re.escape(target), text)
    assert found is not None
    entity = Entity(type=kind, text=target, start=found.start(), end=found.end())  # type: ignore[arg-type]
    return assert_entities(text, [entity], learned=learned)[0].assertion


def test_a_stopped_drug_is_historical() -> None:
    assert _flags(
        "Warfarin was stopped in 2022 and should not be restarted.", "Warfarin", "medication"
    ).historical
    assert _flags("Metformin was discontinued because of diarrhoea.", "Metformin", "medication").historical
    assert _flags("We discontinued ramipril on admission.", "ramipril", "medication").historical
    assert _flags("He stopped taking aspirin last year.", "aspirin", "medication").historical


def test_a_continued_drug_stays_current() -> None:
    assert _flags("Continue metformin 500 mg twice daily.", "metformin", "medication").affirmed
    assert _flags("Warfarin was started in 2022.", "Warfarin", "medication").affirmed


def test_header_words_are_not_cues_for_the_body_but_sentence_cues_still_are() -> None:
    # The rules alone: neither "family" nor "history" of the header reaches the body.
    smoker = _flags(SOCIAL_AND_FAMILY, "smoker", learned=False)
    assert not smoker.family and not smoker.historical
    # The learned layer reads the social-history section as past habits (as NegEx annotates).
    assert not _flags(SOCIAL_AND_FAMILY, "smoker").family
    assert _flags(SOCIAL_AND_FAMILY, "breast cancer").family


def test_a_family_history_section_still_flags_family() -> None:
    assert _flags("Family history: diabetes in his father.\n", "diabetes").family
    assert _flags("Family History:\nDiabetes.", "Diabetes").family
    # A cue written in the body (not the header) still counts.
    assert _flags("Plan: Family history of colon cancer, refer for colonoscopy.", "colon cancer").family


def test_rules_extractor_on_the_letter_sentences() -> None:
    text = (
        "Warfarin was stopped in 2022 and should not be restarted. He is not taking aspirin.\n\n"
        + SOCIAL_AND_FAMILY
    )
    found = {e.text: e.assertion for e in clinex.extract(text, extractor="rules").entities}
    assert found["Warfarin"].historical and not found["Warfarin"].negated
    assert found["aspirin"].negated
    assert not found["Ex-smoker"].family
    assert found["breast cancer"].family
