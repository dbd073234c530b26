from __future__ import annotations

from clinex.extractors.encoder.linking import Span, complete_attributes, link_attributes, retype_by_attributes


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


def test_an_entity_takes_the_type_its_own_attributes_belong_to() -> None:
    text = "Metformin 500 mg orally twice daily, 3 Jan\nHemoglobin 13.1 g/dL\nAdenocarcinoma T2 N0 M0"
    entities = [
        _span(text, "lab", "Metformin"),  # its dose, route and frequency say medication
        _span(text, "medication", "Hemoglobin"),  # its value and unit say lab
        _span(text, "lab", "Adenocarcinoma"),  # its TNM says tumour
    ]
    attributes = [
        _span(text, "dose", "500 mg"),
        _span(text, "route", "orally"),
        _span(text, "frequency", "twice daily"),
        _span(text, "date", "3 Jan"),  # fits every type: no evidence
        _span(text, "value", "13.1"),
        _span(text, "unit", "g/dL"),
        _span(text, "tnm", "T2 N0 M0"),
    ]
    assert retype_by_attributes(text, entities, attributes) == ["medication", "lab", "tumor"]


def test_a_type_is_kept_without_clear_evidence_from_its_own_attributes() -> None:
    text = "Asthma 5 mg\nSodium 140 mg daily\nTroponin\n0.04 ng/mL\nAspirin Ferritin 30 ng/mL"
    entities = [
        _span(text, "condition", "Asthma"),  # a condition has no attributes of its own
        _span(text, "lab", "Sodium"),  # value and frequency: two types, neither alone
        _span(text, "medication", "Troponin"),  # attributes on the next line are not its own
        _span(text, "medication", "Aspirin"),  # the value belongs to the entity after it
        _span(text, "lab", "Ferritin"),
    ]
    attributes = [
        _span(text, "dose", "5 mg"),
        _span(text, "value", "140"),
        _span(text, "frequency", "daily"),
        _span(text, "value", "0.04"),
        _span(text, "value", "30"),
        _span(text, "unit", "ng/mL", text.index("30")),
    ]
    types = retype_by_attributes(text, entities, attributes)
    assert types == ["condition", "lab", "medication", "medication", "lab"]


def _tidied(text: str, start: int, end: int) -> str | None:
    """The text of a condition span tagged at [start, end) once the extractor has tidied it."""
    from clinex.extractors.encoder.inference import PredictedSpan
    from clinex.extractors.encoder.spans import whole_words

    tidy = whole_words(text, PredictedSpan("condition", start, end, 1.0, {}))
    return None if tidy is None else text[tidy.start : tidy.end]


def test_entity_spans_are_widened_to_words_and_trimmed_of_glue() -> None:
    text = "had shortness of breath, fever and cough"
    cases = {(4, 24): "shortness of breath", (25, 34): "fever", (4, 7): "shortness", (31, 34): "and"}
    for (start, end), expected in cases.items():
        assert _tidied(text, start, end) == expected
    assert _tidied(text, 23, 24) is None  # only a comma


def test_short_hyphen_joined_pieces_join_the_name_and_long_ones_stay_apart() -> None:
    text = "C-reactive protein high; non-small cell lung cancer; COVID-19; amoxicillin-clavulanate"
    cases = {
        "reactive protein": "C-reactive protein",
        "small cell lung cancer": "non-small cell lung cancer",
        "COVID": "COVID-19",
        "clavulanate": "clavulanate",
        "amoxicillin": "amoxicillin",
    }
    for tagged, expected in cases.items():
        start = text.index(tagged)
        assert _tidied(text, start, start + len(tagged)) == expected


def test_attributes_are_completed_and_measurements_are_not_dates() -> None:
    text = (
        "Atorvastatin 40 mg at night. Salbutamol every 4 hours. Fever of 38.9 C on 03/11/2024, MI in 2015. "
        "A five-day course; aspirin every day."
    )
    tagged = [
        _span(text, "frequency", "at", text.index("at night")),
        _span(text, "frequency", "every"),
        _span(text, "dose", "40"),
        _span(text, "date", "38.9"),
        _span(text, "date", "03/11"),
        _span(text, "date", "2015"),
        _span(text, "unit", "C"),
        _span(text, "frequency", "day"),
        _span(text, "frequency", "day", text.index("every day")),
    ]
    completed = [(a.type, text[a.start : a.end]) for a in complete_attributes(text, tagged)]
    assert completed == [
        ("frequency", "at night"),
        ("frequency", "every 4 hours"),
        ("dose", "40 mg"),
        ("date", "03/11/2024"),
        ("date", "2015"),
        ("unit", "C"),
        ("frequency", "every day"),
    ]
