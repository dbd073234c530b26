"""Section detection with medspaCy's Sectionizer and its default English section rules.

A section is a header (e.g. ``Family History:``) and the text up to the next header; its
``category`` is medspaCy's (``family_history``, ``past_medical_history``, ...). Text before the
first header has category None.
"""

from __future__ import annotations

import bisect
import functools
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spacy.tokens import Doc


@dataclass(frozen=True, slots=True)
class Section:
    """Character span ``[start, end)`` of a section; ``body_start`` is where its header ends."""

    category: str | None
    start: int
    body_start: int
    end: int


@functools.cache
def blank_nlp() -> Any:
    """The shared tokenizer-only English pipeline (loaded once)."""
    import spacy

    return spacy.blank("en")


@functools.cache
def _sectionizer() -> Any:
    from medspacy.section_detection import Sectionizer

    # Run before entities are set: sections are read from doc._.sections and entities are
    # placed in them by character offset.
    return Sectionizer(blank_nlp(), rules="default")


def sections_of_doc(doc: Doc) -> list[Section]:
    """Sections of a spaCy Doc made by :func:`blank_nlp` (the Doc gains ``doc._.sections``)."""
    with warnings.catch_warnings():
        # medspaCy's default section rules are all literals, so its token Matcher is empty and
        # spaCy warns (W036) on every call; nothing is wrong.
        warnings.filterwarnings("ignore", message=r"\[W036\]")
        _sectionizer()(doc)
    found = []
    for section in doc._.sections:
        span = doc[section.section_span[0] : section.section_span[1]]
        body = doc[section.body_span[0] : section.body_span[1]]
        body_start = body.start_char if len(body) else span.end_char
        found.append(Section(section.category, span.start_char, body_start, span.end_char))
    return found


def find_sections(text: str) -> list[Section]:
    """The sections of a note."""
    return sections_of_doc(blank_nlp()(text))


def section_at(sections: list[Section], offset: int) -> Section | None:
    """The section holding character ``offset`` (``sections`` sorted, not overlapping)."""
    i = bisect.bisect_right([s.start for s in sections], offset) - 1
    return sections[i] if i >= 0 and offset < sections[i].end else None
