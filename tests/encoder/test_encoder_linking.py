from __future__ import annotations

from clinex.extractors.encoder.linking import Span, link_attributes


def _span(text: str, kind: str, needle: str, after: int = 0) -> Span:
    start = text.index(needle, after)
    return Span(kind, start, start + len(needle))


def test_attributes_join_the_nearest_compatible_entity_on_their_line() -> None:
    text = "Metformin 500 mg twice daily and lisinopril 10 mg.\nHemoglobin 13.2 g/dL"
    entities = [
        _span(text, "medication", "Metformin"),
        _span(text, "medication", "lisinopril"),
        _span(text, "lab", "Hemoglobin"),
    ]
    attributes = [
        _span(text, "dose", "500 mg"),
        _span(text, "frequency", "twice daily"),
        _span(text, "dose", "10 mg"),
        _span(text, "value", "13.2"),
        _span(text, "unit", "g/dL"),
    ]
    linked = link_attributes(text, entities, attributes)
    assert linked == [
        {"dose": "500 mg", "frequency": "twice daily"},
        {"dose": "10 mg"},
        {"value": "13.2", "unit": "g/dL"},
    ]


def test_attribute_of_a_kind_the_entity_cannot_hold_stays_unlinked() -> None:
    text = "Asthma 500 mg"
    assert link_attributes(text, [_span(text, "condition", "Asthma")], [_span(text, "dose", "500 mg")]) == [
        {}
    ]


def test_no_linking_across_lines() -> None:
    text = "Aspirin\n81 mg"
    assert link_attributes(text, [_span(text, "medication", "Aspirin")], [_span(text, "dose", "81 mg")]) == [
        {}
    ]


def test_entity_spans_are_widened_to_words_and_trimmed_of_glue() -> None:
    from clinex.extractors.encoder.extractor import _whole_words
    from clinex.extractors.encoder.inference import PredictedSpan

    text = "had shortness of breath, fever and cough"
    cases = {(4, 24): "shortness of breath", (25, 34): "fever", (4, 7): "shortness", (31, 34): "and"}
    for (start, end), expected in cases.items():
        tidy = _whole_words(text, PredictedSpan("condition", start, end, 1.0, {}))
        assert tidy is not None and text[tidy.start : tidy.end] == expected
    assert _whole_words(text, PredictedSpan("condition", 23, 24, 1.0, {})) is None  # only a comma
