"""Parse an LLM's extraction answer, repairing what a model (or a token cap) commonly breaks.

Repairs, tried in order until the JSON parses: drop prose and code fences around the JSON,
drop trailing commas, close a truncated answer (open arrays and objects), cutting it back to
the last complete value when it ends inside a string. Items that do not fit the answer schema
(:mod:`clinex.llm.schema`) are dropped and counted, never guessed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from clinex.core.errors import OutputParseError
from clinex.core.types import ASSERTION_FLAGS, ATTRIBUTES, ENTITY_TYPES

#: Words models use for the entity types (lower case).
_TYPE_ALIASES = {
    "diagnosis": "condition",
    "problem": "condition",
    "disease": "condition",
    "symptom": "condition",
    "drug": "medication",
    "medicine": "medication",
    "test": "lab",
    "laboratory": "lab",
    "lab_result": "lab",
    "treatment": "procedure",
    "surgery": "procedure",
    "cancer": "tumor",
    "neoplasm": "tumor",
}
_FENCE = re.compile(r"```(?:json)?", re.IGNORECASE)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
#: How many cut-back points to try on a truncated answer before giving up.
_MAX_CUTS = 8


@dataclass(frozen=True, slots=True)
class AnswerEntity:
    """One entity as the model stated it: not yet grounded in the note."""

    type: str
    text: str
    assertion: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ParsedAnswer:
    entities: list[AnswerEntity]
    #: True when the JSON had to be repaired (e.g. a truncated answer).
    repaired: bool
    #: Items dropped because they did not fit the schema.
    invalid_items: int


def parse_answer(raw: str) -> ParsedAnswer:
    """The entities in a model's answer. Raises OutputParseError when nothing parses."""
    data, repaired = _load_json(raw)
    items = _entity_list(data)
    if items is None:
        raise OutputParseError(
            "the model's answer holds no entity list",
            hint='the answer must be {"entities": [...]}; use a backend with constrained decoding',
        )
    entities = [entity for entity in map(answer_entity, items) if entity is not None]
    return ParsedAnswer(entities=entities, repaired=repaired, invalid_items=len(items) - len(entities))


def _load_json(raw: str) -> tuple[Any, bool]:
    text = _FENCE.sub("", raw).strip()
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        raise OutputParseError(
            f"the model's answer ({len(raw)} characters) holds no JSON",
            hint="the model may have refused or answered in prose; try constrained decoding or another prompt",
        )
    text = text[min(starts) :]
    decoder = json.JSONDecoder()
    try:
        return decoder.raw_decode(text)[0], False
    except json.JSONDecodeError:
        pass
    for candidate in _repairs(text):
        try:
            return decoder.raw_decode(candidate)[0], True
        except json.JSONDecodeError:
            continue
    raise OutputParseError(
        f"the model's answer ({len(raw)} characters) is not valid JSON, even after repair",
        hint="raise max_tokens if answers are cut off, or use a backend with constrained decoding",
    )


def _repairs(text: str) -> list[str]:
    """Candidate fixes of broken JSON, most faithful first."""
    text = _TRAILING_COMMA.sub(r"\1", text)
    closers, in_string, cuts = _scan(text)
    cut_back = [_close(text[:cut], cut_closers) for cut, cut_closers in reversed(cuts[-_MAX_CUTS:])]
    # A string cut off by the token cap ("metfor") is no fact: prefer the last complete value.
    if in_string:
        return [*cut_back, _close(text + '"', closers)]
    return [_close(text, closers), *cut_back]


def _scan(text: str) -> tuple[list[str], bool, list[tuple[int, list[str]]]]:
    """The brackets still open at the end, whether a string is open, and the points where a
    value inside an array or object ended (with the brackets open there)."""
    stack: list[str] = []
    cuts: list[tuple[int, list[str]]] = []
    in_string = escaped = False
    for i, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]" and stack:
            stack.pop()
            if stack:
                cuts.append((i + 1, list(stack)))
    return stack, in_string, cuts


def _close(text: str, closers: list[str]) -> str:
    # A dangling separator or key has no value to go with it: drop it before closing.
    text = re.sub(r'(,|:|,\s*"[^"]*"\s*:?)\s*$', "", text.rstrip())
    text = _TRAILING_COMMA.sub(r"\1", text)
    return text + "".join(reversed(closers))


def _entity_list(data: Any) -> list[Any] | None:
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("entities"), list):
        return list(data["entities"])
    lists = [value for value in data.values() if isinstance(value, list)]
    return lists[0] if len(lists) == 1 else None


def answer_entity(item: Any) -> AnswerEntity | None:
    """One answer item as an entity, or None when it does not fit the schema."""
    if not isinstance(item, dict):
        return None
    kind = str(item.get("type", "")).strip().lower()
    kind = _TYPE_ALIASES.get(kind, kind)
    text = item.get("text")
    if kind not in ENTITY_TYPES or not isinstance(text, str) or not text.strip():
        return None
    return AnswerEntity(
        type=kind,
        text=text.strip(),
        assertion=_flags(item.get("assertion")),
        attributes=_attributes(item.get("attributes"), kind),
    )


def _flags(value: Any) -> tuple[str, ...]:
    if isinstance(value, dict):
        names = [name for name, set_ in value.items() if set_ is True]
    elif isinstance(value, list):
        names = [name for name in value if isinstance(name, str)]
    else:
        return ()
    return tuple(flag for flag in ASSERTION_FLAGS if flag in {name.lower() for name in names})


def _attributes(value: Any, kind: str) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    allowed = ATTRIBUTES[kind]
    return {
        name: str(raw).strip()
        for name, raw in value.items()
        if name in allowed
        and isinstance(raw, str | int | float)
        and not isinstance(raw, bool)
        and str(raw).strip()
    }
