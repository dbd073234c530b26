"""Section detection with medspaCy's Sectionizer: its default English rules plus clinex's.

A section is a header (e.g. ``Family History:``) and the text up to the next header; its
``category`` is medspaCy's (``family_history``, ``past_medical_history``, ...). Text before the
first header has category None. clinex adds the headers of discharge letters that the defaults
miss (``data/section_rules.json``), and any other line that starts with a short ``Header:``
ends the section before it (category None), so that e.g. a family-history section never runs
on into a plan whose header no rule knows. A header with text after it on its line
(``Family history: healthy parents.``) covers that line only.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
import warnings
from dataclasses import dataclass
from importlib import resources
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
    from medspacy.section_detection import Sectionizer, SectionRule

    # Run before entities are set: sections are read from doc._.sections and entities are
    # placed in them by character offset.
    sectionizer = Sectionizer(blank_nlp(), rules="default")
    data = json.loads(resources.files("clinex.text").joinpath("data/section_rules.json").read_text("utf-8"))
    sectionizer.add([SectionRule(r["literal"], r["category"]) for r in data["section_rules"]])
    return sectionizer


# A line that opens with a short capitalised phrase and a colon, e.g. "Plan:" or
# "Investigations (03/11/2024):"; at most six words, so prose with a colon is not a header.
_GENERIC_HEADER = re.compile(r"^[ \t]*[A-Z][A-Za-z/&-]*(?:[ \t]+[A-Za-z/&()0-9.-]+){0,5}:", re.MULTILINE)
# A line in capitals and nothing else, e.g. "HISTORY OF PRESENT ILLNESS".
_CAPITALS_LINE = re.compile(r"^[ \t]*([A-Z][A-Z/&-]*(?:[ \t]+[A-Z/&()-]+){0,5})[ \t]*$", re.MULTILINE)


def header_names(text: str) -> list[str]:
    """The section headers of a note as written (``Plan:`` lines and lines in capitals, with
    rules or without), lower-cased without the colon and with digits as ``#`` (a date in a
    header is not a new header), in order: what a note's layout is made of, known to the
    section rules or not."""
    found = [(m.start(), m.group(0).strip().rstrip(":")) for m in _GENERIC_HEADER.finditer(text)]
    found += [(m.start(), m.group(1)) for m in _CAPITALS_LINE.finditer(text) if len(m.group(1)) > 3]
    return [re.sub(r"\d", "#", " ".join(name.lower().split())) for _, name in sorted(found)]


def sections_of_doc(doc: Doc, text: str | None = None) -> list[Section]:
    """Sections of a spaCy Doc made by :func:`blank_nlp` (the Doc gains ``doc._.sections``).

    ``text`` is the note the Doc was made from, where that differs from ``doc.text`` in
    whitespace only (line breaks turned to spaces): header lines are found in it.
    """
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
    text = doc.text if text is None else text
    return _end_inline_sections(text, _split_at_generic_headers(text, found))


def _end_inline_sections(text: str, sections: list[Section]) -> list[Section]:
    """End a section whose header has text after it on its line at that line's end (the rest,
    up to the next header, opens a category-None one): "Family history: healthy parents." in a
    case report written one sentence a line covers that line, not the rest of the note. A
    header alone on its line keeps the lines below it ("Diagnoses:\n1. ...\n2. ...")."""
    result: list[Section] = []
    for section in sections:
        line_end = text.find("\n", section.body_start, section.end)
        inline = line_end > 0 and text[section.body_start : line_end].strip()
        if section.category is not None and inline and text[line_end : section.end].strip():
            result.append(Section(section.category, section.start, section.body_start, line_end))
            result.append(Section(None, line_end, line_end, section.end))
        else:
            result.append(section)
    return result


def _split_at_generic_headers(text: str, sections: list[Section]) -> list[Section]:
    """End a section where an unknown ``Header:`` line starts (it opens a category-None one)."""
    # Sections follow each other without overlapping, so the known header that may overlap a
    # match is the last one starting before the match ends (bisection keeps long notes linear).
    known_starts = [s.start for s in sections]
    cuts = []
    for m in _GENERIC_HEADER.finditer(text):
        at = bisect.bisect_right(known_starts, m.end()) - 1
        if at < 0 or sections[at].body_start < m.start():
            cuts.append((m.start(), m.end()))
    if not cuts:
        return sections
    cut_starts = [start for start, _ in cuts]
    result: list[Section] = []
    for section in sections:
        start = section.start
        category, body_start = section.category, section.body_start
        first = bisect.bisect_right(cut_starts, section.start)
        for cut_start, cut_end in cuts[first : bisect.bisect_left(cut_starts, section.end)]:
            result.append(Section(category, start, body_start, cut_start))
            start, body_start, category = cut_start, cut_end, None
        result.append(Section(category, start, body_start, section.end))
    return result


def find_sections(text: str) -> list[Section]:
    """The sections of a note."""
    return sections_of_doc(blank_nlp()(text))


def section_at(sections: list[Section], offset: int) -> Section | None:
    """The section holding character ``offset`` (``sections`` sorted, not overlapping)."""
    i = bisect.bisect_right([s.start for s in sections], offset) - 1
    return sections[i] if i >= 0 and offset < sections[i].end else None
