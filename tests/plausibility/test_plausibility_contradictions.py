"""condition_refuted_and_confirmed and medication_started_and_stopped on hand-written notes."""

from __future__ import annotations

from plausibility_notes import document, mention

from clinex.core.types import Assertion, Document
from clinex.plausibility import Finding, run_checks

NEGATED = Assertion(negated=True)


def found(doc: Document, check: str) -> list[Finding]:
    return [f for f in run_checks(doc) if f.check == check]


CONDITIONS = (
    "Chest X-ray on admission showed no evidence of pneumonia.\n"
    "Day 3: fever; pneumonia confirmed on repeat imaging.\n"
    "No rash. Itchy rash on both forearms.\n"
    "No family history of diabetes. Known diabetes, diet controlled.\n"
    "Pneumonia in 2015.\n"
)


def test_a_condition_both_negated_and_affirmed_is_flagged_on_the_negated_mention() -> None:
    denied = mention(CONDITIONS, "pneumonia", "condition", code="J18.9", assertion=NEGATED)
    confirmed = mention(CONDITIONS, "pneumonia", "condition", nth=1, code="J18.9")
    (finding,) = found(document(CONDITIONS, denied, confirmed), "condition_refuted_and_confirmed")
    assert (finding.entity, finding.related, finding.span) == (0, (1,), (denied.start, denied.end))
    assert finding.message == (
        "condition ICD-10-CM J18.9 is negated and affirmed in the same note "
        f"(mentions at [{denied.start}, {denied.end}), [{confirmed.start}, {confirmed.end}))"
    )


def test_uncoded_conditions_are_matched_by_their_normalised_text() -> None:
    denied = mention(CONDITIONS, "rash", "condition", assertion=NEGATED)
    confirmed = mention(CONDITIONS, "rash", "condition", nth=1)
    (finding,) = found(document(CONDITIONS, denied, confirmed), "condition_refuted_and_confirmed")
    assert finding.message.startswith("uncoded condition is negated and affirmed")


def test_a_negated_condition_with_only_flagged_other_mentions_is_not_flagged() -> None:
    denied = mention(CONDITIONS, "pneumonia", "condition", code="J18.9", assertion=NEGATED)
    past = mention(CONDITIONS, "Pneumonia", "condition", code="J18.9", assertion=Assertion(historical=True))
    maybe = mention(
        CONDITIONS, "pneumonia", "condition", nth=1, code="J18.9", assertion=Assertion(uncertain=True)
    )
    assert found(document(CONDITIONS, denied, maybe, past), "condition_refuted_and_confirmed") == []


def test_a_family_member_without_the_condition_is_no_denial_of_the_patient_s() -> None:
    family = mention(
        CONDITIONS, "diabetes", "condition", code="E11.9", assertion=Assertion(negated=True, family=True)
    )
    patient = mention(CONDITIONS, "diabetes", "condition", nth=1, code="E11.9")
    assert found(document(CONDITIONS, family, patient), "condition_refuted_and_confirmed") == []


def test_different_codes_are_different_conditions() -> None:
    denied = mention(CONDITIONS, "pneumonia", "condition", code="J18.9", assertion=NEGATED)
    other = mention(CONDITIONS, "pneumonia", "condition", nth=1, code="J15.9")
    assert found(document(CONDITIONS, denied, other), "condition_refuted_and_confirmed") == []


COURSE = (
    "Apixaban 5 mg twice daily was started for atrial fibrillation.\n"
    "On day 4 apixaban was discontinued because of haematuria.\n"
    "Warfarin was stopped and edoxaban started.\n"
    "Metformin commenced. Continue metformin 500 mg twice daily.\n"
    "Consider starting atorvastatin. Atorvastatin held while LFTs are raised.\n"
    "Ramipril restarted. Ramipril stopped.\n"
    "Edoxaban and warfarin were withheld after the bleed.\n"
    "Aspirin as per the Newcastle clinic. Aspirin stopped.\n"
)


def test_a_medication_started_and_stopped_in_one_note_is_flagged_on_the_stop() -> None:
    started = mention(COURSE, "Apixaban", "medication", code="1364430", dose="5 mg")
    stopped = mention(COURSE, "apixaban", "medication", code="1364430")
    (finding,) = found(document(COURSE, started, stopped), "medication_started_and_stopped")
    assert (finding.entity, finding.related) == (1, (0,))
    assert finding.message == (
        "medication RxNorm 1364430 is started and stopped in the same note "
        f"(mentions at [{stopped.start}, {stopped.end}), [{started.start}, {started.end}))"
    )


def test_mentions_are_one_drug_by_their_ingredients_whatever_the_concept() -> None:
    # an uncoded mention and one coded as the ingredient name the same drug
    started = mention(COURSE, "Apixaban", "medication")
    stopped = mention(COURSE, "apixaban", "medication", code="1364430")
    assert len(found(document(COURSE, started, stopped), "medication_started_and_stopped")) == 1


def test_in_a_sentence_with_both_cues_each_mention_takes_the_nearest() -> None:
    warfarin = mention(COURSE, "Warfarin", "medication", code="11289")  # "... was stopped and ..."
    edoxaban = mention(COURSE, "edoxaban", "medication")  # "... and edoxaban started."
    edoxaban_held = mention(COURSE, "Edoxaban", "medication")
    warfarin_held = mention(COURSE, "warfarin", "medication", nth=0, code="11289")
    doc = document(COURSE, warfarin, edoxaban, edoxaban_held, warfarin_held)
    (finding,) = found(doc, "medication_started_and_stopped")
    assert (finding.entity, finding.related) == (2, (1,))  # warfarin was stopped twice: no finding


def test_a_start_and_a_continuation_are_no_contradiction() -> None:
    first = mention(COURSE, "Metformin", "medication", code="6809")
    second = mention(COURSE, "metformin", "medication", code="6809", dose="500 mg")
    assert found(document(COURSE, first, second), "medication_started_and_stopped") == []


def test_a_hypothetical_start_does_not_count() -> None:
    planned = mention(
        COURSE, "atorvastatin", "medication", code="83367", assertion=Assertion(hypothetical=True)
    )
    held = mention(COURSE, "Atorvastatin", "medication", code="83367")
    assert found(document(COURSE, planned, held), "medication_started_and_stopped") == []
    unflagged = planned.with_(assertion=Assertion())
    assert len(found(document(COURSE, unflagged, held), "medication_started_and_stopped")) == 1


def test_cues_are_whole_words() -> None:
    restarted = mention(COURSE, "Ramipril", "medication", code="35296")
    stopped = mention(COURSE, "Ramipril", "medication", nth=1, code="35296")
    assert found(document(COURSE, restarted, stopped), "medication_started_and_stopped") == []
    newcastle = mention(COURSE, "Aspirin", "medication", code="1191")  # "New" of "Newcastle" is no cue
    stopped = mention(COURSE, "Aspirin", "medication", nth=1, code="1191")
    assert found(document(COURSE, newcastle, stopped), "medication_started_and_stopped") == []
