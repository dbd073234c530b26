"""One-word spans only the tagger supports are dropped; named findings, abbreviations, entities
with attributes and confident spans are kept (hand-written narrative sentences)."""

from __future__ import annotations

from typing import Any

import pytest

from clinex.core.types import Entity
from clinex.extractors.encoder.model import load_tokenizer
from clinex.extractors.encoder.support import SpanSupport, head_word, heads_of, wordpiece_words
from clinex.terminology import load


@pytest.fixture(scope="module")
def support() -> SpanSupport:
    return SpanSupport(
        wordpiece_words(load_tokenizer()),
        {"condition": load("icd10cm"), "lab": load("loinc"), "medication": load("rxnorm")},
    )


def _tag(note: str, word: str, entity_type: str, **fields: Any) -> Entity:
    start = note.index(word)
    fields.setdefault("confidence", 0.6)
    return Entity(type=entity_type, text=word, start=start, end=start + len(word), **fields)  # type: ignore[arg-type]


NOTE = (
    "Her cough was markedly better after she rested, and the abdomen was tender. "
    "She hiked gently to the car; amoxicillin was chosen and potassium was checked. "
    "A CT showed a gastric ulcer; weight 64 kg."
)


@pytest.mark.parametrize(
    ("word", "entity_type"),
    [
        ("markedly", "condition"),  # an adverb
        ("rested", "condition"),  # a verb
        ("tender", "condition"),  # an adjective alone
        ("abdomen", "condition"),  # a body part: ICD-10-CM names say where, not what
        ("gently", "procedure"),
        ("chosen", "medication"),
    ],
)
def test_everyday_words_nothing_names_are_dropped(support: SpanSupport, word: str, entity_type: str) -> None:
    assert not support.keep(_tag(NOTE, word, entity_type))


@pytest.mark.parametrize(
    ("word", "entity_type", "fields"),
    [
        ("cough", "condition", {}),  # an ICD-10-CM name and the head of many
        ("ulcer", "condition", {}),  # not a whole WordPiece word: technical
        ("amoxicillin", "medication", {}),
        ("potassium", "lab", {}),  # a LOINC name
        ("CT", "procedure", {}),  # written as an abbreviation
        ("weight", "lab", {"attributes": {"value": "64", "unit": "kg"}}),  # its own attributes
        ("rested", "condition", {"confidence": 0.99}),  # the tagger is sure
        ("gastric ulcer", "condition", {}),  # more than one word: not this filter's business
    ],
)
def test_supported_spans_are_kept(
    support: SpanSupport, word: str, entity_type: str, fields: dict[str, object]
) -> None:
    assert support.keep(_tag(NOTE, word, entity_type, **fields))


def test_a_date_alone_does_not_support_a_span(support: SpanSupport) -> None:
    assert not support.keep(_tag(NOTE, "rested", "condition", attributes={"date": "2021"}))


def test_filter_keeps_order_and_is_deterministic(support: SpanSupport) -> None:
    tagged = [
        _tag(NOTE, w, t)
        for w, t in [
            ("cough", "condition"),
            ("markedly", "condition"),
            ("amoxicillin", "medication"),
            ("gently", "procedure"),
        ]
    ]
    first = support.filter(tagged)
    assert [e.text for e in first] == ["cough", "amoxicillin"]
    assert support.filter(tagged) == first


def test_head_words_come_from_the_names_grammar() -> None:
    assert head_word("Pain in right knee") == "pain"
    assert head_word("Abscess of liver") == "abscess"
    assert head_word("Acute kidney failure, unspecified") == "failure"
    assert head_word("Multiple nodules") == "nodule"
    heads = heads_of(load("icd10cm"))
    assert heads.is_head("fever") and heads.is_head("infections")
    assert not heads.is_head("severe") and not heads.is_head("stomach")


def test_the_encoder_drops_them_on_narrative_and_keeps_its_findings() -> None:
    from clinex.extractors.encoder.extractor import EncoderExtractor

    note = (
        "He walked slowly into clinic, visibly breathless, with a productive cough and fever. "
        "Amoxicillin was started and his potassium was rechecked."
    )
    with_filter = EncoderExtractor(precision="fp32").extract(note)
    without = EncoderExtractor(precision="fp32", support=False).extract(note)
    kept = {(e.type, e.start, e.end) for e in with_filter}
    assert kept <= {(e.type, e.start, e.end) for e in without}
    # Whatever was dropped is one everyday word the tagger was unsure of.
    for e in without:
        if (e.type, e.start, e.end) not in kept:
            assert " " not in e.text and (e.confidence or 0) < 0.95
    assert any(e.type == "condition" and "fever" in e.text for e in with_filter)
    assert EncoderExtractor(precision="fp32").extract(note) == with_filter
