"""Section of a note a character offset falls in, for section slices (medspaCy's categories)."""

from __future__ import annotations

from clinex.text.sections import Section, find_sections, section_at

NO_SECTION = "(none)"


class Sections:
    """The sections of one note, found on the first query (medspaCy is slow to load and run)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._sections: list[Section] | None = None

    def at(self, offset: int | None) -> str:
        """The section category at ``offset``; ``(none)`` before any header or without a span."""
        if offset is None or not self._text.strip():
            return NO_SECTION
        if self._sections is None:
            self._sections = find_sections(self._text)
        section = section_at(self._sections, offset)
        return NO_SECTION if section is None or section.category is None else section.category
