"""clinex.testing: the stand-ins plugin authors and users test with, and the grounding check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import clinex
import clinex.testing
from clinex.core.errors import ConfigError, InputError
from clinex.core.registry import extractors, llm_backends
from clinex.core.types import Assertion, Code, Entity
from clinex.extractors.llm import LLMExtractor
from clinex.pipeline import NoteInput, Pipeline
from clinex.testing import FaultyExtractor, FixedEntitiesExtractor, ScriptedBackend, assert_grounded

NOTE = "Known asthma. No fever. Still asthma."
TABLE = {
    "asthma": {
        "type": "condition",
        "code": {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "J45.909"},
    },
    "fever": {"type": "condition", "assertion": {"negated": True}, "confidence": 0.7},
    "sepsis": {"type": "condition"},
}


def test_public_names_are_exactly_these() -> None:
    assert clinex.testing.__all__ == [
        "FaultyExtractor",
        "FixedEntitiesExtractor",
        "ScriptedBackend",
        "abbreviated",
        "assert_grounded",
        "new_site_headers",
    ]
    defined = {
        name
        for name, value in vars(clinex.testing).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == "clinex.testing"
    }
    assert defined == set(clinex.testing.__all__)


def test_fixed_extractor_grounds_each_phrase_at_its_first_occurrence() -> None:
    found = FixedEntitiesExtractor(TABLE).extract(NOTE)
    assert [(e.text, e.start, e.end, e.alignment) for e in found] == [
        ("asthma", 6, 12, "exact"),
        ("fever", 17, 22, "exact"),
    ]
    asthma, fever = found
    assert asthma.code == Code(system="http://hl7.org/fhir/sid/icd-10-cm", code="J45.909")
    assert fever.assertion == Assertion(negated=True) and fever.confidence == 0.7


def test_fixed_extractor_reads_its_table_from_a_model_file(tmp_path: Path) -> None:
    path = tmp_path / "table.json"
    path.write_text(json.dumps({"fever": {"type": "condition"}}), encoding="utf-8")
    assert [e.text for e in FixedEntitiesExtractor(TABLE, model=str(path)).extract(NOTE)] == ["fever"]
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ConfigError, match="does not hold an object"):
        FixedEntitiesExtractor(model=str(path))
    path.write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match="not JSON"):
        FixedEntitiesExtractor(model=str(path))
    with pytest.raises(ConfigError, match="not found"):
        FixedEntitiesExtractor(model=str(tmp_path / "absent.json"))


def test_a_bad_entry_fails_when_the_extractor_is_built() -> None:
    with pytest.raises(InputError, match="'type'"):
        FixedEntitiesExtractor({"fever": {"assertion": {"negated": True}}})
    with pytest.raises(InputError, match="unknown assertion"):
        FixedEntitiesExtractor({"fever": {"type": "condition", "assertion": {"denied": True}}})


def test_fixed_extractor_by_name_through_the_pipeline(fixed_extractor_name: str) -> None:
    letter = (Path(__file__).resolve().parents[1] / "examples" / "discharge_letter.txt").read_text(
        encoding="utf-8"
    )
    doc = clinex.extract(letter, extractor=fixed_extractor_name)
    assert doc.meta["extractor"] == "fixed.v1"
    by_text = {e.text: e for e in doc.entities}
    assert by_text["pulmonary embolism"].assertion.negated
    assert by_text["Metformin"].attributes["dose"] == "1000 mg"


def test_no_stand_in_is_registered_outside_the_tests_that_ask_for_one() -> None:
    # Runs after the test above: its fixture's registration must be gone.
    assert "fixed" not in extractors.base_names()
    assert "scripted" not in llm_backends.base_names()


def test_scripted_backend_answers_in_order_repeats_the_last_and_records_the_chats() -> None:
    backend = ScriptedBackend(["one", "two"])
    chats = [[{"role": "user", "content": str(i)}] for i in range(3)]
    assert [backend.generate(chat) for chat in chats] == ["one", "two", "two"]
    assert backend.calls == chats
    assert ScriptedBackend("only").generate(chats[0]) == "only"
    with pytest.raises(ConfigError, match="at least one answer"):
        ScriptedBackend([])


def test_scripted_backend_by_name_drives_the_llm_extractor() -> None:
    answer = json.dumps(
        {"entities": [{"type": "condition", "text": "asthma"}, {"type": "condition", "text": "gout"}]}
    )
    with llm_backends.override("scripted.v1", ScriptedBackend):
        extractor = LLMExtractor(backend="scripted", script=[answer], examples=None)
    assert isinstance(extractor.backend, ScriptedBackend)
    entities = extractor.extract(NOTE)
    assert [(e.text, e.start) for e in entities] == [("asthma", 6), ("gout", None)]
    (chat,) = extractor.backend.calls
    assert chat[-1]["content"].endswith(NOTE)
    assert "scripted" not in llm_backends.base_names()


def _condition(text: str, start: int | None) -> Entity:
    if start is None:
        return Entity(type="condition", text=text, alignment="none")
    return Entity(type="condition", text=text, start=start, end=start + len(text))


def test_assert_grounded_returns_the_grounded_entities() -> None:
    asthma, gout = _condition("asthma", 6), _condition("gout", None)
    assert assert_grounded(NOTE, [asthma, gout]) == [asthma]
    assert assert_grounded(NOTE, [gout], min_count=0) == []


def test_assert_grounded_names_a_bad_span_by_position_never_by_text() -> None:
    shifted = _condition("asthma", 5)
    with pytest.raises(AssertionError, match=r"entity 1 \(condition, \[5, 11\)") as info:
        assert_grounded(NOTE, [_condition("fever", 17), shifted])
    assert "asthma" not in str(info.value)
    unaligned = Entity(type="condition", text="asthma", start=6, end=12, alignment="none")
    with pytest.raises(AssertionError, match="alignment none"):
        assert_grounded(NOTE, [unaligned])


def test_assert_grounded_counts_the_grounded_entities() -> None:
    with pytest.raises(AssertionError, match="1 of 2 entities are grounded, expected at least 2"):
        assert_grounded(NOTE, [_condition("asthma", 6), _condition("gout", None)], min_count=2)
    with pytest.raises(AssertionError, match="0 of 0"):
        assert_grounded(NOTE, [])
    with pytest.raises(ValueError, match="min_count"):
        assert_grounded(NOTE, [], min_count=-1)


def test_faulty_extractor_fails_on_its_marker_and_passes_the_rest_through() -> None:
    faulty = FaultyExtractor(FixedEntitiesExtractor(TABLE), fail_on="POISON")
    assert faulty.name == "faulty.fixed.v1"
    assert [e.text for e in faulty.extract(NOTE)] == ["asthma", "fever"]
    with pytest.raises(RuntimeError, match="failure marker"):
        faulty.extract(NOTE + " POISON")
    good, bad = Pipeline(faulty).run_many([NoteInput(NOTE, "a"), NoteInput(NOTE + " POISON", "b")])
    assert isinstance(good, clinex.Document) and [e.text for e in good.entities] == ["asthma", "fever"]
    assert isinstance(bad, clinex.InternalError) and "RuntimeError" in bad.message
    with pytest.raises(ValueError, match="delay"):
        FaultyExtractor(FixedEntitiesExtractor(TABLE), delay=-1)


def test_the_constructed_shifts_change_style_and_headers_only() -> None:
    note = "Family history: hypertension.\nMedications on discharge:\nMetformin twice daily orally.\n"
    assert clinex.testing.abbreviated(note) == "fam hx: HTN.\nmeds on discharge:\nMetformin bid po.\n"
    assert clinex.testing.new_site_headers(note) == (
        "Familienanamnese: hypertension.\nMedikation:\nMetformin twice daily orally.\n"
    )
