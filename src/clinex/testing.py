"""Offline stand-ins and checks for testing code built on clinex (plugins, pipelines, services).

- :class:`FixedEntitiesExtractor`: an extractor that reports entities you wrote by hand, so
  what comes after extraction (FHIR mapping, your CLI or service) is tested on known input.
- :class:`FaultyExtractor`: wraps an extractor to fail on chosen notes and to slow it down,
  so a batch's error handling and an interrupted run's resumption are tested on known input.
- :class:`ScriptedBackend`: an LLM backend that answers from a script and records the chats it
  was given, so prompts, parsing and grounding are tested without a model.
- :func:`assert_grounded`: the grounding check, ``note[start:end] == text``, for a test.
- :func:`abbreviated`, :func:`new_site_headers`: constructed shifts of a note's style and
  layout, to check that a drift monitor (``clinex monitor``) notices them.

Pass an instance where one is taken (``clinex.extract(note, extractor=...)``,
``LLMExtractor(backend=...)``). Importing this module registers nothing: where a registry name
is needed (a CLI, a config file), register the stand-in for a block, so no other test sees it::

    from clinex.core.registry import llm_backends

    with llm_backends.override("scripted.v1", ScriptedBackend):
        extractor = LLMExtractor(backend="scripted", script=['{"entities": []}'])
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from clinex.core.errors import ConfigError
from clinex.core.serialize import entity_from_dict
from clinex.core.types import Entity
from clinex.llm.base import Message

__all__ = [
    "FaultyExtractor",
    "FixedEntitiesExtractor",
    "ScriptedBackend",
    "abbreviated",
    "assert_grounded",
    "new_site_headers",
]


class FixedEntitiesExtractor:
    """An extractor that reports hand-written entities wherever their phrase occurs in a note.

    Each phrase is grounded at its first occurrence, so ``note[start:end] == phrase``; a phrase
    not in the note is not reported. The pipeline's stages run on these entities as on any
    extractor's: flags given here are kept, the assertion layer may add others, and the
    normaliser codes what has no code.

    Args:
        entities: phrase → the entity's fields in the JSONL form, without text or span, e.g.
            ``{"type": "condition", "assertion": {"negated": True}, "code": {"system": ...,
            "code": "I26.99"}, "attributes": {"date": "2015"}, "confidence": 0.9}``.
        model: The path of a JSON file holding such a table, read instead of ``entities`` (so
            ``clinex extract --extractor fixed --model table.json`` works).

    Raises:
        ConfigError: the model file is missing or does not hold a JSON object.
        InputError: an entry is malformed (it names the field).
    """

    name = "fixed.v1"

    def __init__(
        self, entities: Mapping[str, Mapping[str, Any]] | None = None, *, model: str | None = None
    ) -> None:
        table = _read_table(Path(model)) if model is not None else dict(entities or {})
        # Parsed once, so a bad entry fails when the extractor is built, not per note.
        self._templates = {
            phrase: entity_from_dict(
                {**spec, "text": phrase, "start": None, "end": None, "alignment": "none"}
            )
            for phrase, spec in table.items()
        }

    def extract(self, text: str) -> list[Entity]:
        found = []
        for phrase, template in self._templates.items():
            start = text.find(phrase)
            if start >= 0:
                found.append(
                    template.with_(
                        start=start,
                        end=start + len(phrase),
                        alignment="exact",
                        attributes=dict(template.attributes),
                    )
                )
        return found


def _read_table(path: Path) -> dict[str, Mapping[str, Any]]:
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"entity table not found: {path}", hint="give the path of a JSON file") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"entity table {path} is not JSON (line {exc.lineno})",
            hint='write {"phrase": {"type": "condition", ...}, ...}',
        ) from None
    if not isinstance(table, dict):
        raise ConfigError(
            f"entity table {path} does not hold an object",
            hint='write {"phrase": {"type": "condition", ...}, ...}',
        )
    return table


class FaultyExtractor:
    """An extractor that raises on every note holding ``fail_on`` and otherwise reports what
    ``inner`` finds, after ``delay`` seconds per note.

    It pickles when ``inner`` does, so a distributed engine can send it to its workers. The
    error it raises is a plain ``RuntimeError``, as a bug in a plugin would be.

    Args:
        inner: The extractor doing the work (e.g. a :class:`FixedEntitiesExtractor`).
        fail_on: A marker; a note containing it fails. None: no note fails.
        delay: Seconds to sleep per note, to make a batch last long enough to interrupt.

    Raises:
        ValueError: ``delay`` is negative.
    """

    def __init__(self, inner: Any, *, fail_on: str | None = None, delay: float = 0.0) -> None:
        if delay < 0:
            raise ValueError(f"delay must be ≥ 0, got {delay}")
        self.inner, self.fail_on, self.delay = inner, fail_on, delay
        self.name = f"faulty.{inner.name}"

    def extract(self, text: str) -> list[Entity]:
        if self.delay:
            time.sleep(self.delay)
        if self.fail_on is not None and self.fail_on in text:
            raise RuntimeError("FaultyExtractor: this note holds the failure marker")
        found: list[Entity] = self.inner.extract(text)
        return found


class ScriptedBackend:
    """An LLM backend that answers each chat with the next string of a script.

    Args:
        script: The answers in order; the last one repeats once the others are used, so a
            single answer (a string) serves every call.

    Attributes:
        calls: The messages of each :meth:`generate` call, in order.

    Raises:
        ConfigError: the script is empty.
    """

    name = "scripted.v1"

    def __init__(self, script: str | Sequence[str]) -> None:
        self.script = [script] if isinstance(script, str) else list(script)
        if not self.script:
            raise ConfigError("a ScriptedBackend needs at least one answer", hint="give script=['{...}']")
        self.calls: list[list[Message]] = []

    def generate(
        self,
        messages: list[Message],
        *,
        json_schema: dict[str, Any] | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
        seed: int | None = None,
    ) -> str:
        """The next answer of the script (the options are accepted and ignored)."""
        self.calls.append(list(messages))
        return self.script[min(len(self.calls), len(self.script)) - 1]


def assert_grounded(note: str, entities: Iterable[Entity], *, min_count: int = 1) -> list[Entity]:
    """Assert that every entity with a span reproduces its text and at least ``min_count`` have one.

    Use it on an extractor's own output (``extractor.extract(note)``): :func:`clinex.extract`
    already refuses an entity whose span is not its text, so a check after it cannot fail.

    Args:
        note: The note the entities were extracted from.
        entities: The entities to check.
        min_count: How many must be grounded; 0 checks only the grounded ones' spans.

    Returns:
        The grounded entities, in the order given.

    Raises:
        AssertionError: an entity with a span has another text there or alignment ``none``, or
            fewer than ``min_count`` are grounded. The message names entities by index, type
            and span, never by their text (it may be a patient's).
        ValueError: ``min_count`` is negative.
    """
    if min_count < 0:
        raise ValueError(f"min_count must be ≥ 0, got {min_count}")
    given = list(entities)
    grounded = [e for e in given if e.grounded]
    bad = [
        f"entity {i} ({e.type}, [{e.start}, {e.end}), alignment {e.alignment})"
        for i, e in enumerate(given)
        if e.grounded and (not e.is_grounded_in(note) or e.alignment == "none")
    ]
    assert not bad, "spans that do not reproduce their text: " + "; ".join(bad)
    assert len(grounded) >= min_count, (
        f"{len(grounded)} of {len(given)} entities are grounded, expected at least {min_count}"
    )
    return grounded


# A clinician's short-hand (whole words, case-insensitive): the abbreviation-heavy style.
SHORT_HAND = {
    "hypertension": "HTN",
    "type 2 diabetes mellitus": "T2DM",
    "diabetes mellitus": "DM",
    "diabetes": "DM",
    "twice daily": "bid",
    "once daily": "od",
    "three times daily": "tid",
    "daily": "qd",
    "orally": "po",
    "by mouth": "po",
    "as needed": "prn",
    "intravenous": "IV",
    "history of": "h/o",
    "history": "hx",
    "patient": "pt",
    "diagnosis": "dx",
    "treatment": "tx",
    "shortness of breath": "SOB",
    "chest pain": "CP",
    "blood pressure": "BP",
    "heart rate": "HR",
    "emergency department": "ED",
    "chronic obstructive pulmonary disease": "COPD",
    "myocardial infarction": "MI",
    "atrial fibrillation": "AF",
    "coronary artery disease": "CAD",
    "congestive heart failure": "CHF",
    "years old": "yo",
    "complains of": "c/o",
    "bilateral": "b/l",
    "family": "fam",
    "medications": "meds",
    "medication": "med",
    "with": "w/",
    "without": "w/o",
    "and": "&",
}
_ABBREVIATE = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, SHORT_HAND), key=len, reverse=True)) + r")\b", re.I
)

# Another site's headers (a German hospital writing in English), chosen by what a header is about.
NEW_SITE = (
    ("famil", "Familienanamnese"),
    ("diagnos", "Diagnosen"),
    ("problem", "Diagnosen"),
    ("medic", "Medikation"),
    ("meds", "Medikation"),
    ("course", "Verlauf"),
    ("plan", "Procedere"),
    ("recommend", "Procedere"),
    ("instruction", "Procedere"),
    ("lab", "Befunde"),
    ("finding", "Befunde"),
    ("history", "Anamnese"),
    ("date", "Datum"),
)
_HEADER_LINE = re.compile(r"^([ \t]*)([A-Z][A-Za-z/&-]*(?:[ \t]+[A-Za-z/&()0-9.-]+){0,5}):", re.M)


def abbreviated(text: str) -> str:
    """``text`` in a clinician's short-hand ("HTN", "bid", "h/o" ...): a constructed style shift."""
    return _ABBREVIATE.sub(lambda m: SHORT_HAND[m.group(1).lower()], text)


def new_site_headers(text: str) -> str:
    """``text`` with every ``Header:`` line renamed as another site names it ("Medikation:",
    "Befunde:" ...): a constructed layout shift, the notes' content unchanged."""

    def rename(match: re.Match[str]) -> str:
        name = match.group(2).lower()
        new = next((german for key, german in NEW_SITE if key in name), "Sonstiges")
        return f"{match.group(1)}{new}:"

    return _HEADER_LINE.sub(rename, text)
