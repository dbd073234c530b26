"""The preprocessing stage: a note's sections and sentences, found once per note.

Long notes are read in pieces of at most :data:`~clinex.text.chunking.DEFAULT_CHUNK_CHARS`
characters cut on section, line and sentence boundaries (bounded memory); each piece keeps its
sections and sentences in offsets of the piece, and the section category in force where the
piece begins (a section opened in an earlier piece runs on into it).
"""

from __future__ import annotations

from dataclasses import dataclass

from clinex.text.chunking import DEFAULT_CHUNK_CHARS, windows
from clinex.text.sections import Section, blank_nlp, sections_of_doc
from clinex.text.sentences import split_sentences


@dataclass(frozen=True, slots=True)
class Piece:
    """``note[start:end]`` with its sections and sentences (offsets into the piece)."""

    start: int
    end: int
    sections: list[Section]
    sentences: list[tuple[int, int]]
    #: The section category in force before the piece's first header (None: none known).
    leading_section: str | None


@dataclass(frozen=True, slots=True)
class NoteStructure:
    """The pieces of a note, in order, covering all of it."""

    pieces: list[Piece]


def prepare(text: str, *, max_chars: int = DEFAULT_CHUNK_CHARS) -> NoteStructure:
    """Sections and sentences of ``text``, piece by piece."""
    pieces = []
    leading: str | None = None
    for window in windows(text, max_chars=max_chars):
        piece = text[window.start : window.end]
        sections = sections_of_doc(blank_nlp()(piece))
        pieces.append(Piece(window.start, window.end, sections, split_sentences(piece), leading))
        # The last section runs on into the next piece; one without a header of its own is the
        # section carried in, and an unknown header ("Ward round:") ends a known one.
        if sections and (sections[-1].category is not None or sections[-1].body_start > sections[-1].start):
            leading = sections[-1].category
    return NoteStructure(pieces)
