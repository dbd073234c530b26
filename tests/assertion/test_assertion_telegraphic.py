"""Assertion on telegraphic text, through the pipeline with the rules extractor (no model)."""

import clinex
from clinex.core.types import Entity


def _by_text(note: str) -> dict[str, Entity]:
    return {e.text: e for e in clinex.extract(note, extractor="rules").entities}


def test_negation_does_not_cross_a_full_stop_before_a_lower_case_sentence() -> None:
    found = _by_text("No CP. hx of HTN, DM2 on metformin 500mg PO bid. c/o SOB.")
    assert found["CP"].assertion.negated
    for text in ("HTN", "DM2", "metformin", "SOB"):
        assert not found[text].assertion.negated, text


def test_a_question_the_note_asks_is_uncertain_never_refuted() -> None:
    for note, text in (
        ("Evaluate for malignancy.", "malignancy"),
        ("r/o pneumonia.", "pneumonia"),
        ("CT to exclude pulmonary embolism.", "pulmonary embolism"),
        ("Assess for cholecystitis.", "cholecystitis"),
        ("Possibly metastatic breast cancer.", "breast cancer"),
        ("Metastases cannot be excluded.", "Metastases"),
    ):
        entity = _by_text(note)[text]
        assert entity.assertion.uncertain and not entity.assertion.negated, note


def test_a_result_pending_is_hypothetical_and_the_scope_is_short() -> None:
    assert _by_text("HbA1c pending.")["HbA1c"].assertion.hypothetical
    assert not _by_text("Cellulitis, cultures pending.")["Cellulitis"].assertion.hypothetical


def test_medspacy_rules_that_clinex_replaces_are_gone_and_a_negative_test_is_still_negative() -> None:
    from clinex.assertion.context import _context

    literals = [rule.literal.lower() for rule in _context().rules]
    assert literals.count("evaluate for") == 1  # clinex's own, not medspaCy's negating one
    assert _by_text("Test for HIV was negative.")["HIV"].assertion.negated
