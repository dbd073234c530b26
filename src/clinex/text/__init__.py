"""Preprocessing of clinical notes: sentences, sections and windows of long notes."""

from clinex.text.chunking import Window, windows
from clinex.text.sections import Section, find_sections
from clinex.text.sentences import split_sentences

__all__ = ["Section", "Window", "find_sections", "split_sentences", "windows"]
