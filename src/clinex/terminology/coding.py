"""Finding concepts for entity texts in one terminology: lookup, names inside a phrase, retrieval.

:class:`Coder` is what the normaliser (the one place a code is chosen) and the extractors that
decide spans by what the terminology names (the encoder splits a run-on list into its terms)
both ask. A :class:`Retriever` is a similarity search over a terminology's concepts that an
extractor may inject (the encoder's MiniLM index) for texts lookup cannot code.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from clinex.core.systems import ICD10CM
from clinex.terminology.base import Concept, Match, Terminology

#: The longest phrase, in words, :meth:`Coder.terms_in` looks up.
MAX_TERM_WORDS = 6
#: A one-word term shorter than this is an abbreviation too ambiguous to code alone ("PE", "MS").
_MIN_ONE_WORD_TERM = 4
_TERM_WORD = re.compile(r"[\w'-]+")


class Retriever(Protocol):
    """A similarity search over one terminology's concepts."""

    def search(self, texts: Sequence[str]) -> list[tuple[Concept, float]]:
        """The most similar concept to each text, with a similarity in 0..1."""
        ...


@dataclass(frozen=True, slots=True)
class FoundTerm:
    """A phrase of a text that the terminology names exactly: its offsets, concept and score."""

    start: int
    end: int
    concept: Concept
    score: float


class Coder:
    """Lookup of entity texts in one terminology (ICD-10-CM hits moved to the billable leaf)."""

    def __init__(self, terminology: Terminology) -> None:
        self.terminology = terminology

    def lookup(self, text: str, *, fuzzy: bool = True) -> Match | None:
        """The best concept for ``text``, or None."""
        if self.terminology.system == ICD10CM:
            from clinex.terminology import icd10cm

            # More than one hit: a billable leaf the text also names may follow the category.
            return icd10cm.best_match(self.terminology.lookup(text, limit=10, fuzzy=fuzzy))
        matches = self.terminology.lookup(text, limit=1, fuzzy=fuzzy)
        return matches[0] if matches else None

    def terms_in(self, text: str) -> list[FoundTerm]:
        """The phrases of ``text`` that are a concept's name or synonym exactly (no fuzzy
        matching), longest first from left to right, without overlaps."""
        words = [(m.start(), m.end()) for m in _TERM_WORD.finditer(text)]
        found: list[FoundTerm] = []
        i = 0
        while i < len(words):
            for n in range(min(MAX_TERM_WORDS, len(words) - i), 0, -1):
                start, end = words[i][0], words[i + n - 1][1]
                if n == 1 and end - start < _MIN_ONE_WORD_TERM:
                    continue
                match = self.lookup(text[start:end], fuzzy=False)
                if match is not None:
                    found.append(FoundTerm(start, end, match.concept, float(match.score)))
                    i += n
                    break
            else:
                i += 1
        return found
