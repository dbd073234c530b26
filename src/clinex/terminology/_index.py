"""An in-memory terminology with exact, synonym and fuzzy lookup."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from difflib import SequenceMatcher

from rapidfuzz import fuzz, process

from clinex.terminology.base import FUZZY_CAP, SYNONYM_SCORE, Concept, Match

#: Fuzzy hits below this similarity (0..1) are dropped.
FUZZY_THRESHOLD = 0.85
#: A word fuzzy matching may respell is at least this long ("oedema"); shorter ones ("MRI",
#: "food", "eye") are abbreviations or everyday words, not misspellings.
RESPELL_MIN_LENGTH = 6
#: ... and at least this similar (0..1) to the word it is read as ("hypopion" → "hypopyon").
RESPELL_SIMILARITY = 0.8
#: Similar names considered per fuzzy hit wanted, since the word check drops some of them.
FUZZY_CANDIDATES = 4
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
        #: Every word of the terminology's names: such a word is not a misspelling of another.
        self._words = frozenset(word for key in keys for word in key.split())
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
            for found, similarity in self._similar(key, limit * FUZZY_CANDIDATES):
                if not self._respells(key.split(), found.split()):
                    continue
                for concept in self._display.get(found, []) + self._synonym.get(found, []):
                    score = round(FUZZY_CAP * similarity / 100, 4)
                    if concept.code not in hits or hits[concept.code].score < score:
                        hits[concept.code] = Match(concept, score, "fuzzy")
        return tuple(sorted(hits.values(), key=lambda m: -m.score)[:limit])

    def _respells(self, query: Sequence[str], found: Sequence[str]) -> bool:
        """Whether ``found`` differs from ``query`` only by respelt, joined or added/dropped words.

        Character similarity alone reads "hypothyroidism" as "hyperparathyroidism",
        "necrosis" as "neurosis" and "eye disorders" as "sleep disorders". So the names are
        aligned word by word, and a query word may be replaced only by a spelling of it: the
        same letters without spaces or hyphens ("post infarction" → "postinfarction"), an
        equivalent ("type I" → "type 1", "with no" → "without"), the singular ("hemangiomas"),
        the American spelling ("oedema", "hyperkalaemia"), or a close respelling of a word this
        terminology does not use ("hypopion" → "hypopyon"). Words of the query the name lacks
        may be dropped (modifiers: "AA amyloidosis" → "amyloidosis": a less specific code; never
        a negation such as "no" or "without"), but the name may add no word that says something
        (only default qualifiers, or the other members of an "A and B" group): a code never
        states more than the text ("Staphylococcus aureus" is not "Sepsis due to ...
        Staphylococcus aureus").
        """
        blocks = SequenceMatcher(a=query, b=found, autojunk=False).get_opcodes()
        for tag, q1, q2, f1, f2 in blocks:
            old, new = query[q1:q2], found[f1:f2]
            if tag == "insert" and not (set(new) <= _EMPTY_WORDS or _grouping(new)):
                return False
            if tag == "delete" and set(old) & _NEGATIONS:
                return False  # "concussion with no loss of consciousness" is not "with loss"
            if tag != "replace" or _same_phrase(old, new):
                continue
            if not all(any(self._respelling(word, other) for other in new) for word in old):
                return False
            if not all(
                any(self._respelling(word, other) for word in old)
                for other in new
                if other not in _EMPTY_WORDS
            ):
                return False
        return True

    def _respelling(self, word: str, other: str) -> bool:
        if _same_word(word, other):
            return True
        return (
            word not in self._words
            and len(word) >= RESPELL_MIN_LENGTH
            and fuzz.ratio(word, other) >= RESPELL_SIMILARITY * 100
        )

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


#: Words a concept name may add to what the text says without saying more: default qualifiers
#: ("of unspecified duration", "initial encounter", "unspecified organism") and the "mellitus" a
#: note leaves out of "type 2 diabetes".
_EMPTY_WORDS = frozenset(
    {"unspecified", "nos", "of", "the", "a", "an", "duration", "site", "side", "laterality", "organism"}
    | {"initial", "encounter", "uncomplicated", "mellitus"}
)
_JOINS = frozenset({"and", "or"})
#: Words a fuzzy match may never drop from the text: they reverse what it says.
_NEGATIONS = frozenset({"no", "not", "non", "without", "never", "absent"})
_BRITISH = re.compile(r"(ae|oe)(?=[a-z])")
_EQUIVALENT = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "with no": "without"}


def _grouping(words: Sequence[str]) -> bool:
    """Whether inserted words only widen a group the text names one member of: an ICD title's
    "A and B" covers A, B or both ("injury of muscle(s) and tendon(s)" for a tendon injury)."""
    return (words[-1] in _JOINS or words[0] in _JOINS) and not set(words) & _NEGATIONS


def _same_phrase(old: Sequence[str], new: Sequence[str]) -> bool:
    """Whether two runs of words say the same but for spacing, hyphens, or an equivalent."""
    if "".join(old) == "".join(new):
        return True
    before, after = " ".join(old), " ".join(new)
    return _EQUIVALENT.get(before, before) == _EQUIVALENT.get(after, after)


def _same_word(word: str, other: str) -> bool:
    """Whether two words are one word in British/American spelling or singular/plural."""
    word, other = (_BRITISH.sub("e", w).replace("leuc", "leuk") for w in (word, other))
    if word == other:
        return True
    return any(
        long in (short + "s", short + "es") or (long.endswith("ies") and long[:-3] + "y" == short)
        for long, short in ((word, other), (other, word))
    )
