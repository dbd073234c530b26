"""Tidying the tagger's spans: whole words, hyphen-joined pieces, no glue words at the edges."""

from __future__ import annotations

import re

from clinex.core.types import ENTITY_TYPES
from clinex.extractors.encoder.inference import PredictedSpan
from clinex.terminology import attributes

#: Words a span may not start or end with: the tagger sometimes runs on into a list's glue.
_EDGE_WORDS = frozenset({"and", "or", "of", "with", "the", "a", "an", "to", "in", "on", "for"})
_EDGE_CHARS = " \t\n,;:.()"
#: A name's hyphenated lead-in ("C-reactive", "non-small") or numbered end ("COVID-19", "HER-2"):
#: short pieces the tagger's sub-word tags leave out. A longer piece is a name of its own
#: ("amoxicillin-clavulanate" is two medications).
_HYPHEN_PREFIX = re.compile(r"(?<![\w-])[^\W_]{1,5}-\Z")
_HYPHEN_SUFFIX = re.compile(r"-(?=[^\W_]{0,2}\d)[^\W_]{1,3}(?![\w-])")


def whole_words(text: str, span: PredictedSpan) -> PredictedSpan | None:
    """Widen a span that starts or ends inside a word (a sub-word tag) to the whole word, then
    trim punctuation and glue words ("fever and", "shortness of breath,") from its edges;
    None when nothing is left."""
    start, end = span.start, span.end
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    if span.type in ENTITY_TYPES:
        start, end = _hyphen_joined(text, start, end)
        while True:
            while start < end and text[start] in _EDGE_CHARS:
                start += 1
            while end > start and text[end - 1] in _EDGE_CHARS:
                end -= 1
            words = text[start:end].split(" ")
            if len(words) > 1 and words[-1].lower() in _EDGE_WORDS:
                end -= len(words[-1])
            elif len(words) > 1 and words[0].lower() in _EDGE_WORDS:
                start += len(words[0])
            else:
                break
    if start >= end:
        return None
    return PredictedSpan(span.type, start, end, span.score, span.flags)


def _hyphen_joined(text: str, start: int, end: int) -> tuple[int, int]:
    """``start``/``end`` widened over a short hyphen-joined piece before or after the word."""
    before = _HYPHEN_PREFIX.search(text, max(0, start - 6), start)
    after = _HYPHEN_SUFFIX.match(text, end)
    return (before.start() if before else start), (after.end() if after else end)


def attribute_word(name: str) -> bool:
    """Whether an entity name is only a unit, route or frequency ("mcg", "intravenous", "daily")
    or one character: what the tagger mistakes for a name on narrative unlike its letters."""
    return len(name) < 2 or any(
        p.fullmatch(name) for p in (attributes.DOSE_UNIT, attributes.ROUTE, attributes.FREQUENCY)
    )
