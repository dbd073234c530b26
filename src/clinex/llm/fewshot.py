"""Few-shot examples: a note and the answer a model should give, checked against their own text.

An example whose entity text does not occur verbatim in its note would teach a model to
paraphrase, which grounding then cannot undo, so every example is validated before use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from clinex.core.errors import ConfigError
from clinex.llm.parsing import AnswerEntity, answer_entity
from clinex.text.grounding import ground

#: The examples shipped with clinex (``examples.v1.json`` beside the prompts).
DEFAULT_EXAMPLES = "default"


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    entities: tuple[AnswerEntity, ...]

    def answer(self) -> str:
        """The answer JSON a model should give for this example, in the schema's form."""
        return json.dumps(
            {
                "entities": [
                    {
                        "type": e.type,
                        "text": e.text,
                        "assertion": list(e.assertion),
                        "attributes": e.attributes,
                    }
                    for e in self.entities
                ]
            },
            ensure_ascii=False,
        )


def load_examples(source: str | Path = DEFAULT_EXAMPLES) -> list[Example]:
    """Examples from a JSON file (``[{"text", "entities": [...]}, ...]``), validated.

    ``"default"`` gives the shipped examples. Raises ConfigError naming the file and example.
    """
    if str(source) == DEFAULT_EXAMPLES:
        name = "examples.v1.json"
        raw = resources.files("clinex.llm.prompts").joinpath(name).read_text(encoding="utf-8")
    else:
        name = str(source)
        try:
            raw = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read few-shot examples {name}: {exc.strerror}") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"few-shot examples {name}: invalid JSON at line {exc.lineno}") from None
    if not isinstance(data, list):
        raise ConfigError(
            f"few-shot examples {name}: not a list", hint='give [{"text": ..., "entities": [...]}]'
        )
    examples = [_example(item, name, index) for index, item in enumerate(data)]
    validate_examples(examples, source=name)
    return examples


def validate_examples(examples: list[Example], *, source: str = "examples") -> None:
    """Check that every entity text (and attribute value) occurs verbatim in its example's note."""
    for index, example in enumerate(examples):
        for number, entity in enumerate(example.entities):
            for what, value in [("text", entity.text), *entity.attributes.items()]:
                found = ground(example.text, value, fuzzy_threshold=None)
                if found is None or example.text[found.start : found.end] != value:
                    raise ConfigError(
                        f"{source}: example {index}, entity {number}: its {what} does not occur verbatim in the example's text",
                        hint="copy entity text and attribute values exactly from the example note",
                    )


def _example(item: Any, source: str, index: int) -> Example:
    if (
        not isinstance(item, dict)
        or not isinstance(item.get("text"), str)
        or not isinstance(item.get("entities"), list)
    ):
        raise ConfigError(f"{source}: example {index} needs 'text' (a string) and 'entities' (a list)")
    entities = []
    for number, raw in enumerate(item["entities"]):
        entity = answer_entity(raw)
        if entity is None:
            raise ConfigError(
                f"{source}: example {index}, entity {number} does not fit the answer schema",
                hint="each entity needs a known 'type' and a non-empty 'text'",
            )
        entities.append(entity)
    return Example(text=item["text"], entities=tuple(entities))
