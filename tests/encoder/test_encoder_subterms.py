"""An uncodable condition span that runs over a list or a clause is split into its coded terms;
a procedure span that only names conditions becomes them."""

from __future__ import annotations

import pytest

from clinex.core.types import Assertion, Entity
from clinex.extractors.encoder.subterms import conditions_in_procedure, split_into_terms
from clinex.terminology import load
from clinex.terminology.coding import Coder
from clinex.terminology.normalise import CONTAINED_NAME_FACTOR, normalise


@pytest.fixture(scope="module")
def terms() -> Coder:
    return Coder(load("icd10cm"))


def _span(note: str, phrase: str, **fields: object) -> Entity:
    start = note.index(phrase)
    return Entity(type="condition", text=phrase, start=start, end=start + len(phrase), **fields)  # type: ignore[arg-type]


def test_a_run_on_span_becomes_one_grounded_coded_entity_per_term(terms: Coder) -> None:
    note = "History: duodenal ulcer and constipation complaining of pain in the right renal fossa."
    phrase = "duodenal ulcer and constipation complaining of pain in the right renal fossa"
    parent = _span(
        note, phrase, assertion=Assertion(historical=True), attributes={"date": "2019"}, confidence=0.8
    )
    parts = normalise(split_into_terms(parent, terms.terms_in(parent.text)), note)
    assert [p.text for p in parts] == ["duodenal ulcer", "constipation", "pain"]
    assert all(note[p.start : p.end] == p.text for p in parts)  # type: ignore[misc]
    codes = [p.code.code[:3] for p in parts if p.code is not None]
    assert len(codes) == 3 and codes[:2] == ["K26", "K59"]
    # What the span knew stays with each term; a term's confidence never exceeds the span's.
    assert all(p.assertion == parent.assertion and p.attributes == {"date": "2019"} for p in parts)
    assert all(0.0 < p.confidence <= parent.confidence for p in parts)


def test_one_phrase_around_one_name_keeps_its_span_and_takes_the_names_code_less_surely(
    terms: Coder,
) -> None:
    note = "Exam: right varicocele, painless."
    parent = _span(note, "right varicocele", confidence=0.8)
    assert terms.lookup(parent.text) is None, "the test needs a phrase lookup cannot code"
    (name,) = terms.terms_in(parent.text)
    (whole,) = split_into_terms(parent, terms.terms_in(parent.text))
    assert whole == parent, "one phrase around one name is not split"
    (kept,) = normalise([whole], note)
    (alone,) = normalise(
        [parent.with_(text="varicocele", start=note.index("varicocele"), end=note.index(","))], note
    )
    assert (kept.text, kept.start, kept.end) == (parent.text, parent.start, parent.end)
    assert kept.code is not None and kept.code.code == name.concept.code == "I86.1"
    # Less sure than the name alone: the name's score is scaled by CONTAINED_NAME_FACTOR.
    assert kept.confidence == pytest.approx(0.8 * (0.5 + 0.5 * name.score * CONTAINED_NAME_FACTOR))
    assert kept.confidence < alone.confidence


def test_a_list_that_lookup_only_matches_loosely_is_split_into_its_names(terms: Coder) -> None:
    from clinex.extractors.encoder.extractor import EncoderExtractor

    note = "Presenting with shortness of breath, fever and cough."
    parent = _span(note, "shortness of breath, fever", confidence=0.9)
    match = terms.lookup(parent.text)
    assert match is not None and match.concept.code == "R06.02" and match.score < 0.9, (
        "the test needs a fuzzy match that drops the fever"
    )
    extractor = EncoderExtractor(assertion="context", threads=1)
    coded = normalise(extractor._split([parent]), note)
    assert [(e.text, e.code.code if e.code else None) for e in coded] == [
        ("shortness of breath", "R06.02"),
        ("fever", "R50.9"),
    ]
    # A single phrase that lookup matches loosely is kept whole.
    single = _span("Known hyperkalaemia.", "hyperkalaemia", confidence=0.9)
    assert [
        (e.text, e.code.code if e.code else None)
        for e in normalise(extractor._split([single]), "Known hyperkalaemia.")
    ] == [("hyperkalaemia", "E87.5")]


def test_a_span_without_known_terms_stays_whole_and_uncoded(terms: Coder) -> None:
    note = "Exam: living osteotendinous reflexes, symmetrical."
    parent = _span(note, "living osteotendinous reflexes, symmetrical", confidence=0.6)
    (kept,) = normalise(split_into_terms(parent, terms.terms_in(parent.text)), note)
    assert (kept.text, kept.code) == (parent.text, None)


def test_names_that_are_only_a_unit_route_frequency_or_one_character_are_dropped() -> None:
    from clinex.extractors.encoder.extractor import EncoderExtractor
    from clinex.extractors.encoder.inference import PredictedSpan

    note = "Tiotropium 18 mcg inhaled once daily; C-reactive protein 142 mg/L; iv fluids."
    spans = [
        PredictedSpan(kind, note.index(word) + skip, note.index(word) + len(word), 0.9, {})
        for kind, word, skip in [
            ("medication", "Tiotropium", 0),
            ("medication", "mcg", 0),
            ("lab", "C", 0),
            ("procedure", " iv", 1),
            ("medication", "once daily", 0),
            ("lab", "reactive protein", 0),
        ]
    ]
    extractor = EncoderExtractor(assertion="context", subterms=False, threads=1)
    names = [e.text for e in extractor._entities(note, spans)]
    assert names == ["Tiotropium", "C-reactive protein"]  # "C" alone dropped, then joined by its hyphen


def test_terms_in_finds_the_longest_exact_names_without_overlap_or_short_abbreviations(
    terms: Coder,
) -> None:
    text = "type 2 diabetes mellitus, PE and essential hypertension"
    found = [(text[t.start : t.end], t.concept.code) for t in terms.terms_in(text)]
    assert found == [("type 2 diabetes mellitus", "E11.9"), ("essential hypertension", "I10")]


def test_a_procedure_span_that_only_names_conditions_becomes_them(terms: Coder) -> None:
    note = "Exam: hydrocele and varicocele; bilateral papilledema."
    for phrase, expected in [
        ("hydrocele and varicocele", [("hydrocele", "N43.3"), ("varicocele", "I86.1")]),
        ("bilateral papilledema", [("papilledema", "H47.10")]),
    ]:
        span = _span(note, phrase, assertion=Assertion(negated=True), confidence=0.8).with_(type="procedure")
        found = normalise(conditions_in_procedure(span, terms.terms_in(span.text)), note)
        assert [(e.type, e.text, e.code.code if e.code else None) for e in found] == [
            ("condition", name, code) for name, code in expected
        ]
        assert all(e.is_grounded_in(note) and e.assertion.negated for e in found)


@pytest.mark.parametrize("phrase", ["depression screening", "suture of open wound", "chest X-ray"])
def test_a_procedure_naming_a_condition_among_other_words_stays_a_procedure(
    terms: Coder, phrase: str
) -> None:
    note = f"Plan: {phrase}."
    span = _span(note, phrase, confidence=0.8).with_(type="procedure")
    assert conditions_in_procedure(span, terms.terms_in(span.text)) == [span]
