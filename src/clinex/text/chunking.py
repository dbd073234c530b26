"""Cutting long notes into pieces that processing components handle comfortably.

Chunks end at line breaks (or, in a line longer than a chunk, at a sentence end or a space) so
no sentence, and so no entity, is cut; nothing is dropped: the chunks tile the whole note.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

#: Default chunk size in characters: a few pages, far below spaCy's ``max_length``.
DEFAULT_CHUNK_CHARS = 100_000


@dataclass(frozen=True, slots=True)
class Chunk:
    """``text`` is ``note[start:start + len(text)]``."""

    start: int
    text: str

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def chunk_text(text: str, *, max_chars: int = DEFAULT_CHUNK_CHARS) -> Iterator[Chunk]:
    """Consecutive chunks of at most ``max_chars`` characters covering all of ``text``."""
    if max_chars < 2:
        raise ValueError(f"max_chars must be at least 2, not {max_chars}")
    start = 0
    while start < len(text):
        end = min(start + max_chars, len(text))
        if end < len(text):
            end = _cut_point(text, start, end)
        yield Chunk(start, text[start:end])
        start = end


def _cut_point(text: str, start: int, limit: int) -> int:
    # Prefer the last line break, then a sentence end, then a space, in the second half of the
    # window so chunks stay large; cut hard only inside one giant token.
    floor = start + (limit - start) // 2
    for marks in ("\n", ". ", " "):
        cut = text.rfind(marks, floor, limit)
        if cut != -1:
            return cut + len(marks)
    return limit
