"""Preprocessing of clinical notes: sentences, sections and chunks of long notes."""

from clinex.text.chunking import Chunk, chunk_text
from clinex.text.sections import Section, find_sections
from clinex.text.sentences import split_sentences

__all__ = ["Chunk", "Section", "chunk_text", "find_sections", "split_sentences"]
