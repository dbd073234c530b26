"""Locate a string (an LLM's answer, a fact written into a letter) in a note.

This is the one grounding function of clinex. A needle is looked for, in this order:

1. as whole words, exactly as given;
2. as whole words, ignoring case and differences in whitespace;
3. fuzzily (rapidfuzz partial ratio, widened to whole words) above a threshold.

Steps 1–2 give alignment ``"exact"`` (the note holds the same words), step 3 ``"fuzzy"``. A span
never cuts a word: ``"statin"`` is not found inside ``"atorvastatin"``. The span
returned always indexes the note, so callers set ``entity.text = note[start:end]`` and the
grounding invariant ``note[start:end] == text`` holds for every alignment.
"""

from __future__ import annotations

import functools
import re
from typing import Literal, NamedTuple

from rapidfuzz import fuzz

#: Needles shorter than this are only matched exactly: a fuzzy hit on "BP" means nothing.
MIN_FUZZY_LENGTH = 4
DEFAULT_FUZZY_THRESHOLD = 0.85


class Grounding(NamedTuple):
    """Where a needle was found: ``note[start:end]`` and how closely it matched."""

    start: int
    end: int
    alignment: Literal["exact", "fuzzy"]


def ground(
    text: str,
    needle: str,
    *,
    start: int = 0,
    end: int | None = None,
    fuzzy_threshold: float | None = DEFAULT_FUZZY_THRESHOLD,
) -> Grounding | None:
    """The first place at or after ``start`` (and before ``end``) where ``needle`` occurs in ``text``.

    ``fuzzy_threshold`` (0..1, or None to switch fuzzy matching off) is the least similarity a
    fuzzy hit needs. Returns None when the needle cannot be found: never a guessed position.
    """
    stop = len(text) if end is None else min(end, len(text))
    words = needle.split()
    if not words or start >= stop:
        return None
    for pattern in _patterns(tuple(words)):
        match = pattern.search(text, start, stop)
        if match:
            return Grounding(match.start(), match.end(), "exact")
    if fuzzy_threshold is None or len(needle.strip()) < MIN_FUZZY_LENGTH:
        return None
    return _fuzzy(text, " ".join(words), start, stop, fuzzy_threshold)


@functools.lru_cache(maxsize=4096)
def _patterns(words: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    body = r"\s+".join(re.escape(word) for word in words)
    # Look-arounds only where the needle itself starts/ends with a word character, so that
    # "(mg)" or "5." can still match next to letters.
    left = r"(?<!\w)" if re.match(r"\w", words[0]) else ""
    right = r"(?!\w)" if re.search(r"\w$", words[-1]) else ""
    whole = left + body + right
    return re.compile(whole), re.compile(whole, re.IGNORECASE)


def _fuzzy(text: str, needle: str, start: int, stop: int, threshold: float) -> Grounding | None:
    window = text[start:stop]
    hit = fuzz.partial_ratio_alignment(
        needle.lower(), window.lower(), score_cutoff=threshold * 100, processor=None
    )
    if hit is None:
        return None
    lo, hi = _snap_to_words(window, hit.dest_start, hit.dest_end)
    lo, hi = _best_extension(needle.lower(), window, lo, hi)
    if lo >= hi or fuzz.ratio(needle.lower(), window[lo:hi].lower()) < threshold * 100:
        return None
    return Grounding(start + lo, start + hi, "fuzzy")


def _best_extension(needle: str, window: str, lo: int, hi: int) -> tuple[int, int]:
    """Take in one more word on either side when that makes the span more like the needle.

    The partial-ratio window has the needle's length, so a differently spaced span ("500mg"
    written "500  mg") loses its last word; this wins it back.
    """
    best = (fuzz.ratio(needle, window[lo:hi].lower()), lo, hi)
    after = re.match(r"\s*\S+", window[hi:])
    before = re.search(r"\S+\s*$", window[:lo])
    for cand_lo, cand_hi in (
        (lo, hi + after.end() if after else hi),
        (before.start() if before else lo, hi),
    ):
        cand_lo, cand_hi = _snap_to_words(window, cand_lo, cand_hi)
        score = fuzz.ratio(needle, window[cand_lo:cand_hi].lower())
        if score > best[0]:
            best = (score, cand_lo, cand_hi)
    return best[1], best[2]


def _snap_to_words(window: str, lo: int, hi: int) -> tuple[int, int]:
    """Widen [lo, hi) to whole words, then trim surrounding space and punctuation."""
    while 0 < lo < len(window) and window[lo - 1].isalnum() and window[lo].isalnum():
        lo -= 1
    while 0 < hi < len(window) and window[hi - 1].isalnum() and window[hi].isalnum():
        hi += 1
    while lo < hi and not window[lo].isalnum():
        lo += 1
    while hi > lo and not (window[hi - 1].isalnum() or window[hi - 1] in ")%]"):
        hi -= 1
    return lo, hi
