"""Similarity search: a code none of the lexical methods finds, matched against the note's
candidate phrases with the base MiniLM sentence embeddings the encoder's retrieval uses.

Candidate phrases are noun-phrase-ish: a sentence is cut at punctuation and at function words
(articles, auxiliaries, conjunctions, prepositions but "of", common reporting verbs); each run
of at most :data:`MAX_WORDS` words is a candidate, with its last one to three words (English
puts the head noun last: "severe right orchiepididymitis" → "orchiepididymitis"). A code's
names are its own display and synonyms (never a relative's). A candidate whose cosine
similarity to a name reaches :data:`THRESHOLD` is evidence, scored ``0.8 × similarity`` so that
it ranks below every lexical method.

:data:`THRESHOLD` is measured, not guessed: ``benchmarks/align_threshold.py`` embeds, for each
CodiEsp *train* code no lexical method finds, the candidates of its own note and of another
note not coded with it (nor with its category), and takes the lowest similarity at which codes
find a candidate in a foreign note at most 5% of the time (a false evidence rate of 5%): on
150 notes, 1,052 codes, 0.75 (false rate 4.6%; 30.5% of the codes reach it in their own note).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from clinex.align.evidence import Hit, best_of
from clinex.align.text import NoteWords

#: Cosine similarity at which a candidate phrase is a code's evidence (see the module docstring).
THRESHOLD = 0.75
#: Score of an embedding hit per unit of similarity: below the lexical methods.
SCORE_FACTOR = 0.8
MAX_WORDS = 6
#: Embedding hits kept per code.
MAX_HITS = 3
#: Phrase embeddings kept between notes (notes of one hospital repeat their phrases).
CACHE_SIZE = 50_000

_BREAKS = frozenset(
    [
        "the",
        "a",
        "an",
        "this",
        "that",
        "these",
        "those",
        "his",
        "her",
        "their",
        "its",
        "our",
        "your",
        "my",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "will",
        "would",
        "should",
        "could",
        "may",
        "might",
        "can",
        "and",
        "or",
        "but",
        "nor",
        "so",
        "because",
        "since",
        "although",
        "though",
        "while",
        "when",
        "whereas",
        "after",
        "before",
        "during",
        "until",
        "in",
        "on",
        "at",
        "to",
        "from",
        "by",
        "for",
        "into",
        "onto",
        "with",
        "within",
        "upon",
        "over",
        "under",
        "through",
        "between",
        "among",
        "per",
        "via",
        "showed",
        "shows",
        "revealed",
        "reveals",
        "presented",
        "presents",
        "underwent",
        "performed",
        "observed",
        "noted",
        "reported",
        "found",
        "diagnosed",
        "treated",
        "admitted",
        "started",
        "received",
        "required",
        "developed",
        "complained",
        "referred",
        "also",
        "not",
        "no",
        "there",
        "it",
        "he",
        "she",
        "they",
        "we",
        "patient",
        "patients",
        "vs",
        "versus",
    ]
)
_EDGE = frozenset({"of"})


class Embedder(Protocol):
    def __call__(self, texts: Sequence[str], *, batch_size: int = ...) -> np.ndarray[Any, Any]: ...


def candidates(note: NoteWords) -> list[tuple[int, int]]:
    """Token ranges ``(first, last)`` of the note's candidate phrases (see the module docstring)."""
    runs: list[list[int]] = []
    current: list[int] = []
    for index, token in enumerate(note.tokens):
        joined = (
            current
            and note.tokens[current[-1]].sentence == token.sentence
            and note.gap_is_plain(current[-1], index)
            and "," not in note.text[note.tokens[current[-1]].end : token.start]
        )
        if not joined:
            if current:
                runs.append(current)
            current = []
        if token.norm in _BREAKS or token.norm.isdigit():
            if current:
                runs.append(current)
            current = []
            continue
        current.append(index)
    if current:
        runs.append(current)
    found: set[tuple[int, int]] = set()
    for run in runs:
        while run and note.tokens[run[0]].norm in _EDGE:
            run = run[1:]
        while run and note.tokens[run[-1]].norm in _EDGE:
            run = run[:-1]
        for start in range(0, max(1, len(run) - MAX_WORDS + 1), max(1, MAX_WORDS // 2)):
            window = run[start : start + MAX_WORDS]
            for first in [window[0], *window[-3:][1:]] if len(window) > 1 else window:
                if note.tokens[first].norm not in _EDGE and note.tokens[window[-1]].norm not in _EDGE:
                    found.add((first, window[-1]))
    return sorted(found)


class SimilaritySearch:
    """Embedding search for codes the lexical methods miss; embeddings are cached by text."""

    def __init__(self, embedder: Embedder, *, threshold: float = THRESHOLD) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self._cache: dict[str, np.ndarray[Any, Any]] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        """Normalised embeddings of ``texts`` (rows), from the cache where known."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            if len(self._cache) + len(missing) > CACHE_SIZE:
                self._cache.clear()
            for text, vector in zip(missing, self.embedder(missing, batch_size=64), strict=True):
                self._cache[text] = vector.astype(np.float32)
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.stack([self._cache[t] for t in texts])

    def best(
        self, note: NoteWords, phrases: list[tuple[int, int]], names: list[str]
    ) -> list[tuple[int, int, float]]:
        """For each phrase, its best similarity to any of ``names``: ``(first, last, similarity)``."""
        if not phrases or not names:
            return []
        texts = [note.text[note.tokens[a].start : note.tokens[b].end].lower() for a, b in phrases]
        scores = self.embed(texts) @ self.embed([n.lower() for n in names]).T
        best = scores.max(axis=1)
        return [(a, b, float(s)) for (a, b), s in zip(phrases, best, strict=True)]

    def find(self, note: NoteWords, phrases: list[tuple[int, int]], names: list[str]) -> list[Hit]:
        """Hits for one code: phrases at or above the threshold, best first, without overlaps."""
        hits = [
            Hit(*note.span(a, b), "embedding", round(SCORE_FACTOR * s, 4))
            for a, b, s in self.best(note, phrases, names)
            if s >= self.threshold
        ]
        return best_of(hits)[:MAX_HITS] if len(hits) <= MAX_HITS else _top(best_of(hits))


def _top(hits: list[Hit]) -> list[Hit]:
    return sorted(sorted(hits, key=lambda h: -h.score)[:MAX_HITS], key=lambda h: h.start)
