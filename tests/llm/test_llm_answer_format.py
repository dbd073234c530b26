"""The answer schema, parsing with repair, prompts, few-shot examples and note windows."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from clinex.core.errors import ConfigError, OutputParseError
from clinex.core.types import ASSERTION_FLAGS, ENTITY_TYPES
from clinex.llm.fewshot import load_examples
from clinex.llm.parsing import parse_answer
from clinex.llm.prompt import Prompt
from clinex.llm.schema import output_schema
from clinex.text.chunking import windows

GOOD = {
    "entities": [
        {"type": "condition", "text": "diabetes", "assertion": ["negated"]},
        {"type": "medication", "text": "metformin", "attributes": {"dose": "500 mg"}},
    ]
}


def _objects(schema: dict[str, Any]) -> list[dict[str, Any]]:
    found = [schema] if schema.get("type") == "object" else []
    for value in schema.values():
        if isinstance(value, dict):
            found += _objects(value)
            found += [o for v in value.values() if isinstance(v, dict) for o in _objects(v)]
    return found


def test_schema_is_closed_and_bounded_and_follows_the_core_types() -> None:
    schema = output_schema(max_entities=7)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert all(obj.get("additionalProperties") is False for obj in _objects(schema))
    entities = schema["properties"]["entities"]
    assert entities["maxItems"] == 7
    item = entities["items"]["properties"]
    assert item["type"]["enum"] == list(ENTITY_TYPES)
    assert item["assertion"]["items"]["enum"] == list(ASSERTION_FLAGS)
    assert all("maxLength" in spec for spec in item["attributes"]["properties"].values())
    jsonschema.validate(GOOD, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"entities": [{"type": "condition", "text": "x", "start": 3}]}, schema)


def test_parse_reads_a_valid_answer() -> None:
    parsed = parse_answer(json.dumps(GOOD))
    assert not parsed.repaired and parsed.invalid_items == 0
    assert [(e.type, e.text, e.assertion) for e in parsed.entities] == [
        ("condition", "diabetes", ("negated",)),
        ("medication", "metformin", ()),
    ]
    assert parsed.entities[1].attributes == {"dose": "500 mg"}


@pytest.mark.parametrize(
    ("raw", "texts"),
    [
        # prose and a code fence around the JSON
        ('Here you go:\n```json\n{"entities": [{"type": "condition", "text": "asthma"}]}\n```', ["asthma"]),
        # trailing commas
        ('{"entities": [{"type": "condition", "text": "asthma",}, ]}', ["asthma"]),
        # cut off by the token cap inside a string: the partial fact is not kept
        (
            '{"entities": [{"type": "condition", "text": "asthma"}, {"type": "medication", "text": "salbu',
            ["asthma"],
        ),
        # cut off after a complete entity
        ('{"entities": [{"type": "condition", "text": "asthma"}, ', ["asthma"]),
        # a bare list, type aliases
        (
            '[{"type": "Diagnosis", "text": "asthma"}, {"type": "drug", "text": "salbutamol"}]',
            ["asthma", "salbutamol"],
        ),
    ],
)
def test_parse_repairs_common_breakage(raw: str, texts: list[str]) -> None:
    parsed = parse_answer(raw)
    assert [e.text for e in parsed.entities] == texts


def test_parse_drops_and_counts_items_outside_the_schema() -> None:
    raw = json.dumps(
        {
            "entities": [
                {"type": "condition", "text": "asthma", "attributes": {"dose": "5 mg"}},
                {"type": "gene", "text": "BRCA1"},
                "x",
            ]
        }
    )
    parsed = parse_answer(raw)
    assert [e.text for e in parsed.entities] == ["asthma"]
    assert parsed.entities[0].attributes == {}  # dose is no condition attribute
    assert parsed.invalid_items == 2


@pytest.mark.parametrize("raw", ["I am sorry, I cannot help with that.", '{"foo": 1}', '{"entities": {"a"'])
def test_parse_raises_without_quoting_the_answer(raw: str) -> None:
    with pytest.raises(OutputParseError) as info:
        parse_answer(raw)
    assert raw[:20] not in str(info.value)


def test_an_empty_answer_is_a_parse_error() -> None:
    with pytest.raises(OutputParseError, match=r"\(0 characters\) holds no JSON"):
        parse_answer("")


def test_shipped_examples_are_valid_and_render_into_the_prompt() -> None:
    examples = load_examples()
    assert len(examples) >= 2
    for example in examples:
        jsonschema.validate(json.loads(example.answer()), output_schema())
    chat = Prompt("extract.v1").messages("Pt has asthma.", schema=output_schema(), examples=examples[:1])
    assert [m["role"] for m in chat] == ["system", "user", "assistant", "user"]
    assert '"additionalProperties":false' in chat[0]["content"]
    assert chat[-1]["content"].endswith("Pt has asthma.")
    assert json.loads(chat[2]["content"]) == json.loads(examples[0].answer())


def test_an_example_that_paraphrases_its_note_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "examples.json"
    path.write_text(
        json.dumps([{"text": "Known T2DM.", "entities": [{"type": "condition", "text": "type 2 diabetes"}]}])
    )
    with pytest.raises(ConfigError, match=r"example 0, entity 0"):
        load_examples(path)
    path.write_text(
        json.dumps(
            [
                {
                    "text": "On aspirin.",
                    "entities": [{"type": "medication", "text": "aspirin", "attributes": {"dose": "100 mg"}}],
                }
            ]
        )
    )
    with pytest.raises(ConfigError, match="dose"):
        load_examples(path)


def test_unknown_prompt_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        Prompt("extract.v999")
    broken = tmp_path / "p.jinja"
    broken.write_text("{% macro system() %}x{% endmacro %}")
    with pytest.raises(ConfigError, match="macros"):
        Prompt(str(broken))


def test_windows_cover_the_note_on_sentence_boundaries_with_overlap() -> None:
    note = (
        "HISTORY:\nType 2 diabetes. Hypertension since 2010. No fever.\n\nMEDS:\nmetformin 500 mg bid. " * 20
    )
    result = windows(note, max_chars=120, overlap=40)
    assert result[0].start == 0 and result[-1].end == len(note)
    for window in result:
        assert window.end - window.start <= 120
        assert window.start == 0 or note[window.start - 1] in " \n"
    for before, after in itertools.pairwise(result):
        assert before.start < after.start <= before.end  # overlapping or adjacent, always moving on
    assert any(after.start < before.end for before, after in itertools.pairwise(result))


def test_windows_cut_a_text_without_boundaries() -> None:
    result = windows("x" * 1000, max_chars=100)
    assert len(result) == 10 and result[-1].end == 1000
