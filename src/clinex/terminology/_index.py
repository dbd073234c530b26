"""An in-memory terminology with exact, synonym and fuzzy lookup."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator

from rapidfuzz import fuzz, process

from clinex.terminology.base import Concept, Match

#: Fuzzy hits below this similarity (0..1) are dropped.
FUZZY_THRESHOLD = 0.85
# Scores by match kind: a synonym is curated or an inclusion term, so nearly as sure as the
# display; a fuzzy hit is capped below both, scaled by its string similarity.
SYNONYM_SCORE = 0.95
FUZZY_CAP = 0.9
#: Lookups remembered per terminology: a note repeats its terms and a batch of notes repeats
#: many more, while a fuzzy miss scans every key (milliseconds on ICD-10-CM).
LOOKUP_CACHE_SIZE = 16384

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
        keys = list({**self._display, **self._synonym})
        # Keys by length (ties in key order) and each one's place among the keys, for _similar.
        self._key_order = sorted(range(len(keys)), key=lambda i: len(keys[i]))
        self._keys_by_length = [keys[i] for i in self._key_order]
        self._key_lengths = [len(k) for k in self._keys_by_length]
        # Per instance, so that the cache is dropped with its terminology.
        self._cached_lookup = functools.lru_cache(maxsize=LOOKUP_CACHE_SIZE)(self._lookup_key)

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
        return list(self._cached_lookup(key, limit, fuzzy))

    def _lookup_key(self, key: str, limit: int, fuzzy: bool) -> tuple[Match, ...]:
        # A tuple: the cached result must not change when a caller edits the list it got.
        hits: dict[str, Match] = {}
        for concept in self._display.get(key, []):
            hits.setdefault(concept.code, Match(concept, 1.0, "exact"))
        for concept in self._synonym.get(key, []):
            hits.setdefault(concept.code, Match(concept, SYNONYM_SCORE, "synonym"))
        if not hits and fuzzy:
            for found, similarity in self._similar(key, limit):
                for concept in self._display.get(found, []) + self._synonym.get(found, []):
                    score = round(FUZZY_CAP * similarity / 100, 4)
                    if concept.code not in hits or hits[concept.code].score < score:
                        hits[concept.code] = Match(concept, score, "fuzzy")
        return tuple(sorted(hits.values(), key=lambda m: -m.score)[:limit])

    def _similar(self, key: str, limit: int) -> list[tuple[str, float]]:
        # What process.extract over all keys gives (the best `limit` keys with their similarity,
        # equals in key order), faster. fuzz.ratio is at most 2·min(m, n)/(m + n) for lengths m and n, so only keys of a
        # similar length can reach the threshold: one slice of the keys sorted by length.
        cutoff = FUZZY_THRESHOLD
        lo = bisect_left(self._key_lengths, math.floor(len(key) * cutoff / (2 - cutoff)))
        hi = bisect_right(self._key_lengths, math.ceil(len(key) * (2 - cutoff) / cutoff))
        found = process.extract(
            key, self._keys_by_length[lo:hi], scorer=fuzz.ratio, limit=None, score_cutoff=cutoff * 100
        )
        found.sort(key=lambda f: (-f[1], self._key_order[lo + f[2]]))
        return [(text, similarity) for text, similarity, _ in found[:limit]]
