"""The protocol every letter writer implements, and what it returns."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from clinex.core.types import Entity
from clinex.synth.facts import SampledFacts


@dataclass(slots=True, kw_only=True)
class Letter:
    """A written letter and its gold: every entity satisfies ``text[start:end] == entity.text``."""

    text: str
    entities: list[Entity]
    #: the layout (template family) the letter was written in, e.g. ``"de_a"`` or ``"llm"``
    layout: str
    #: the paraphrase family of its sentences, e.g. ``"b"``
    family: str
    #: facts that were sampled but could not be found in the text (LLM writer), hence not gold
    dropped: int = 0
    meta: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class LetterWriter(Protocol):
    """Writes one letter from sampled facts, deterministically for a given ``rng`` state.

    With ``held_out=True`` the writer uses only its held-out layouts/families (for a test split
    that measures generalisation); otherwise only the others.
    """

    #: the versioned registry name, e.g. ``"template.v1"``
    name: str

    def write(self, facts: SampledFacts, rng: random.Random, *, held_out: bool = False) -> Letter: ...
