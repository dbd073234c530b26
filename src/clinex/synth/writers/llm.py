"""The LLM letter writer: a registered LLM backend writes the letter, then facts are grounded.

The model gets the sampled facts, each with the exact term to use. Its letter is then searched
for every term with :func:`clinex.text.grounding.ground` (exact, then fuzzy); a fact whose term
is not found is dropped from gold and counted in ``Letter.dropped``. Attributes (dose, frequency,
lab value, ...) are kept only where one of their spellings stands in the text right after the
term. Gold assertions follow the fact's role: the prompt asks the model to write distractors as
ruled out / family / past / conditional, and this is trusted, not checked — review a sample of
letters from a new model before training on them.
"""

from __future__ import annotations

import functools
import random
from importlib import resources
from typing import Any

import jinja2

from clinex.core.registry import llm_backends
from clinex.core.types import Entity
from clinex.llm.base import LLMBackend, Message
from clinex.synth.facts import Fact, SampledFacts
from clinex.synth.writers.base import Letter
from clinex.text.grounding import ground

PROMPT_VERSION = "letter.v1"
#: How far after a term its attributes (dose, value, ...) may stand, in characters.
ATTRIBUTE_WINDOW = 60
_ROLE_WORDS = {
    "active": "current diagnosis",
    "history": "past (resolved) problem",
    "family": "family history",
    "negated": "ruled out (write it as ruled out / no evidence of)",
    "hypothetical": "only possible: write 'if ... occurs'",
}
_FREQUENCY = {
    0: "as needed",
    1: "once daily",
    2: "twice daily",
    3: "three times daily",
    4: "four times daily",
}


@functools.lru_cache(maxsize=2)
def _prompt(version: str) -> jinja2.Template:
    text = resources.files("clinex.synth.writers").joinpath("prompts", f"{version}.jinja").read_text("utf-8")
    return jinja2.Environment(autoescape=False, keep_trailing_newline=True).from_string(text)


class LLMWriter:
    """Writes letters with an LLM backend; registered as ``llm.v1``.

    ``backend`` is an LLM backend registry name (``llamacpp``, ``transformers``, ``openai``) or
    an instance; ``model`` a model path or packaged name (or the served model for ``openai``,
    which also needs ``base_url``). Held-out letters are asked for in German style.
    """

    name = "llm.v1"

    def __init__(
        self,
        *,
        backend: str | LLMBackend = "llamacpp",
        model: str | None = None,
        base_url: str | None = None,
        max_tokens: int = 600,
        temperature: float = 0.7,
        backend_options: dict[str, Any] | None = None,
    ) -> None:
        if isinstance(backend, str):
            factory = llm_backends.get(backend)
            options = dict(backend_options or {})
            if llm_backends.resolve(backend).startswith("openai."):
                backend = factory(base_url, model=model, **options)
            else:
                backend = factory(model, **options)
        self.backend: LLMBackend = backend  # type: ignore[assignment]
        self.max_tokens = max_tokens
        self.temperature = temperature

    def write(self, facts: SampledFacts, rng: random.Random, *, held_out: bool = False) -> Letter:
        style = "German-style" if held_out else "US-style"
        messages: list[Message] = [
            {"role": "system", "content": "You are a physician writing discharge letters."},
            {"role": "user", "content": self.prompt(facts, style)},
        ]
        text = self.backend.generate(
            messages, max_tokens=self.max_tokens, temperature=self.temperature, seed=rng.randrange(2**31)
        )
        entities, dropped = ground_facts(text, facts.facts)
        return Letter(
            text=text,
            entities=entities,
            layout="llm-de" if held_out else "llm-us",
            family=PROMPT_VERSION,
            dropped=dropped,
            meta={"prompt": PROMPT_VERSION},
        )

    def prompt(self, facts: SampledFacts, style: str) -> str:
        patient = " ".join(
            x for x in (f"{facts.age}-year-old" if facts.age is not None else "", facts.sex) if x
        )
        stay = f"stay {facts.encounter.start.isoformat()} to {facts.encounter.end.isoformat()}"
        return _prompt(PROMPT_VERSION).render(
            style=style, patient=patient, stay=stay, facts=[describe(f) for f in facts.facts]
        )


def describe(fact: Fact) -> str:
    """One prompt line for a fact, quoting the exact term to be written."""
    if fact.type == "medication":
        parts = [_dose(fact), fact.route, _FREQUENCY.get(fact.per_day) if fact.per_day is not None else None]
        return f'medication "{fact.name}" ' + " ".join(p for p in parts if p)
    if fact.type == "lab":
        when = f" on {fact.date.isoformat()}" if fact.date else ""
        return f'lab "{fact.name}" {_number(fact.value)} {fact.unit or ""}{when}'.rstrip()
    if fact.type == "tumor" and fact.tumor is not None:
        t = fact.tumor
        return f'tumour histology "{fact.name}", {t.prefix}{t.t} {t.prefix}{t.n} {t.m}, grade G{t.grade}'
    label = "procedure" if fact.type == "procedure" else _ROLE_WORDS[fact.role]
    return f'{label}: "{fact.name}"'


def _dose(fact: Fact) -> str | None:
    return f"{_number(fact.dose.value)} {fact.dose.unit}" if fact.dose else None


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.0f}" if value == round(value) else f"{value:.1f}"


def ground_facts(text: str, facts: list[Fact]) -> tuple[list[Entity], int]:
    """Gold entities for the facts found in ``text``, and how many were not found.

    Longer terms are placed first and spans never overlap, so "lung cancer" is not taken as
    "cancer". Every exact occurrence becomes a mention; a fuzzy find only the first.
    """
    taken: list[tuple[int, int]] = []
    entities: list[Entity] = []
    dropped = 0
    for fact in sorted(facts, key=lambda f: -len(f.name)):
        found = 0
        start = 0
        while (hit := ground(text, fact.name, start=start)) is not None:
            start = hit.end
            if any(hit.start < e and s < hit.end for s, e in taken):
                continue
            taken.append((hit.start, hit.end))
            found += 1
            entities.append(
                Entity(
                    type=fact.type,
                    text=text[hit.start : hit.end],
                    start=hit.start,
                    end=hit.end,
                    alignment=hit.alignment,
                    assertion=fact.assertion,
                    code=fact.code,
                    attributes=_attributes(text, hit.end, fact),
                    confidence=1.0 if hit.alignment == "exact" else 0.8,
                )
            )
            if hit.alignment == "fuzzy":
                break
        dropped += found == 0
    entities.sort(key=lambda e: (e.start or 0, e.end or 0))
    return entities, dropped


def _attributes(text: str, after: int, fact: Fact) -> dict[str, str]:
    window = text[after : after + ATTRIBUTE_WINDOW]
    wanted: dict[str, list[str]] = {}
    if fact.dose:
        number = _number(fact.dose.value)
        wanted["dose"] = [f"{number} {fact.dose.unit}", f"{number}{fact.dose.unit}"]
    if fact.route:
        wanted["route"] = [fact.route, "p.o.", "po", "orally"] if fact.route == "oral" else [fact.route]
    if fact.per_day is not None and fact.per_day in _FREQUENCY:
        wanted["frequency"] = [_FREQUENCY[fact.per_day]]
    if fact.value is not None:
        wanted["value"] = [_number(fact.value)]
    if fact.unit:
        wanted["unit"] = [fact.unit]
    if fact.tumor is not None:
        t = fact.tumor
        wanted["tnm"] = [f"{t.prefix}{t.t} {t.prefix}{t.n} {t.m}", f"{t.t} {t.n} {t.m}"]
        wanted["grade"] = [f"G{t.grade}", f"grade {t.grade}"]
    found: dict[str, str] = {}
    for name, spellings in wanted.items():
        for spelling in spellings:
            hit = ground(window, spelling, fuzzy_threshold=None)
            if hit is not None:
                found[name] = window[hit.start : hit.end]
                break
    if fact.type == "tumor":
        found["histology"] = fact.name
    return found
