import pytest

from clinex.core.errors import InputError
from clinex.core.serialize import document_from_record, entity_from_dict, entity_to_dict
from clinex.core.types import Assertion, Code, Document, Entity

NOTE = "Patient takes metformin 500 mg twice daily. No chest pain."


def test_entity_round_trips_through_the_jsonl_form():
    start = NOTE.index("metformin")
    entity = Entity(
        type="medication",
        text="metformin",
        start=start,
        end=start + 9,
        code=Code(system="http://www.nlm.nih.gov/research/umls/rxnorm", code="6809", display="metformin"),
        attributes={"dose": "500 mg", "frequency": "twice daily"},
        confidence=0.9,
    )
    data = entity_to_dict(entity)
    assert list(data) == [
        "type",
        "text",
        "start",
        "end",
        "alignment",
        "assertion",
        "code",
        "attributes",
        "confidence",
    ]
    assert list(data["assertion"]) == ["negated", "historical", "family", "uncertain", "hypothetical"]
    assert entity_from_dict(data) == entity
    assert entity.is_grounded_in(NOTE)


def test_ungrounded_entity_has_no_span_and_alignment_none():
    entity = entity_from_dict({"type": "condition", "text": "sepsis"})
    assert entity.start is None and entity.alignment == "none"
    assert not entity.is_grounded_in(NOTE)
    with pytest.raises(ValueError, match="alignment 'none'"):
        Entity(type="condition", text="sepsis", alignment="exact")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"type": "drug"}, "entity type"),
        ({"start": 5, "end": 2}, "half-open"),
        ({"start": 1, "end": None}, "both"),
        ({"confidence": 1.5}, "confidence"),
        ({"alignment": "roughly"}, "alignment"),
    ],
)
def test_entity_rejects_invalid_fields(changes, message):
    fields = {"type": "condition", "text": "x", "start": 0, "end": 1} | changes
    with pytest.raises(ValueError, match=message):
        Entity(**fields)


def test_malformed_records_raise_input_error_without_note_text():
    cases = [
        (entity_from_dict, {"text": "secret words"}, "'type'"),
        (entity_from_dict, {"type": "lab", "text": "secret words", "assertion": {"denied": True}}, "unknown"),
        (entity_from_dict, {"type": "lab", "text": "secret words", "start": 4}, "both"),
        (document_from_record, {"text": "secret words", "entities": []}, "'id'"),
        (document_from_record, {"id": "n1", "entities": [{"text": "secret words"}]}, "'type'"),
    ]
    for parse, record, problem in cases:
        with pytest.raises(InputError, match=problem) as error:
            parse(record)
        assert "secret" not in str(error.value)  # the message and its hint


def test_assertion_affirmed_and_names():
    assert Assertion().affirmed
    flags = Assertion(negated=True, family=True)
    assert not flags.affirmed
    assert flags.names() == ["negated", "family"]


def test_document_lists_entities_whose_span_does_not_match():
    good = Entity(
        type="condition", text="chest pain", start=NOTE.index("chest"), end=NOTE.index("chest") + 10
    )
    bad = Entity(type="condition", text="chest pain", start=0, end=10)
    doc = Document(text=NOTE, entities=[good, bad])
    assert doc.ungrounded() == [bad]
