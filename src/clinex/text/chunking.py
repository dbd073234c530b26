"""Cutting long notes into windows on section, line and sentence boundaries.

Windows are character intervals of the whole note, so entities found in a window keep
offsets into the note; together they cover all of it, and no sentence is cut unless it alone
is longer than a window (then at a space, or hard inside one giant token). Consecutive windows
share up to ``overlap`` characters of whole sentences, so a fact on a boundary is seen whole at
least once (the LLM extractor); with no overlap they tile the note (the rules and ConText read
long notes window by window, which bounds their memory).
"""

from __future__ import annotations

import re
from typing import NamedTuple

#: Default window size in characters for the rules and ConText: a few pages, far below
#: spaCy's ``max_length``.
DEFAULT_CHUNK_CHARS = 100_000
# Break after a blank line or line end (sections, lists), or after a sentence's full stop.
_BREAK = re.compile(r"\n\s*\n|\n|(?<=[.!?;])\s+(?=\S)")


class Window(NamedTuple):
    start: int
    end: int


def windows(text: str, *, max_chars: int, overlap: int = 0) -> list[Window]:
    """Windows of at most ``max_chars`` characters covering all of ``text``."""
    if max_chars < 1 or not 0 <= overlap < max_chars:
        raise ValueError(f"need max_chars ≥ 1 and 0 ≤ overlap < max_chars, got {max_chars}, {overlap}")
    pieces = _pieces(text, max_chars)
    result: list[Window] = []
    first = 0
    while first < len(pieces):
        last = first
        while last + 1 < len(pieces) and pieces[last + 1].end - pieces[first].start <= max_chars:
            last += 1
        result.append(Window(pieces[first].start, pieces[last].end))
        if last + 1 == len(pieces):
            break
        # Start the next window on the latest pieces that fit in the overlap, but always move on.
        following = last + 1
        while following - 1 > first and pieces[last].end - pieces[following - 1].start <= overlap:
            following -= 1
        first = following
    return result


def _pieces(text: str, max_chars: int) -> list[Window]:
    """Sentences/lines, each cut further at whitespace (or hard) when longer than ``max_chars``."""
    pieces: list[Window] = []
    start = 0
    for match in _BREAK.finditer(text):
        pieces.extend(_split_long(text, start, match.end(), max_chars))
        start = match.end()
    pieces.extend(_split_long(text, start, len(text), max_chars))
    return [piece for piece in pieces if piece.end > piece.start]


def _split_long(text: str, start: int, end: int, max_chars: int) -> list[Window]:
    out = []
    while end - start > max_chars:
        cut = text.rfind(" ", start + 1, start + max_chars + 1)
        cut = cut + 1 if cut > start else start + max_chars
        out.append(Window(start, cut))
        start = cut
    out.append(Window(start, end))
    return out
