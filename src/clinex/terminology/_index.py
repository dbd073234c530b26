"""An in-memory terminology with exact, synonym and fuzzy lookup."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator

from rapidfuzz import fuzz, process

from clinex.terminology.base import Concept, Match

#: Fuzzy hits below this similarity (0..1) are dropped.
FUZZY_THRESHOLD = 0.85
# Scores by match kind: a synonym is curated or an inclusion term, so nearly as sure as the
# display; a fuzzy hit is capped below both, scaled by its string similarity.
SYNONYM_SCORE = 0.95
FUZZY_CAP = 0.9

_PUNCT = re.compile(r"[^\w\s]+")
_SPACE = re.compile(r"\s+")


def normalise_term(text: str) -> str:
    """Case-, accent-, punctuation- and whitespace-insensitive key of a term."""
    # ASCII has no accents to strip; skipping the per-character pass halves index build time.
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _SPACE.sub(" ", _PUNCT.sub(" ", text.casefold())).strip()


class IndexedTerminology:
    """Concepts held in memory, looked up by display, synonym, then fuzzy similarity."""

    def __init__(self, *, name: str, system: str, concepts: Iterable[Concept]) -> None:
        self.name = name
        self.system = system
        self._by_code: dict[str, Concept] = {}
        self._display: dict[str, list[Concept]] = {}
        self._synonym: dict[str, list[Concept]] = {}
        for concept in concepts:
            self._by_code[concept.code] = concept
            self._display.setdefault(normalise_term(concept.display), []).append(concept)
            for synonym in concept.synonyms:
                self._synonym.setdefault(normalise_term(synonym), []).append(concept)
        self._keys = list({**self._display, **self._synonym})

    def __iter__(self) -> Iterator[Concept]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Concept | None:
        return self._by_code.get(code)

    def lookup(self, text: str, *, limit: int = 5, fuzzy: bool = True) -> list[Match]:
        """Best matches for ``text``, most certain first: exact display, synonym, fuzzy."""
        key = normalise_term(text)
        if not key:
            return []
        hits: dict[str, Match] = {}
        for concept in self._display.get(key, []):
            hits.setdefault(concept.code, Match(concept, 1.0, "exact"))
        for concept in self._synonym.get(key, []):
            hits.setdefault(concept.code, Match(concept, SYNONYM_SCORE, "synonym"))
        if not hits and fuzzy:
            for found, similarity, _ in process.extract(
                key, self._keys, scorer=fuzz.ratio, limit=limit, score_cutoff=FUZZY_THRESHOLD * 100
            ):
                for concept in self._display.get(found, []) + self._synonym.get(found, []):
                    score = round(FUZZY_CAP * similarity / 100, 4)
                    if concept.code not in hits or hits[concept.code].score < score:
                        hits[concept.code] = Match(concept, score, "fuzzy")
        return sorted(hits.values(), key=lambda m: -m.score)[:limit]
