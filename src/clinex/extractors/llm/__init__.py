"""The decoder-LLM extractor, registered as ``llm.v2``."""

from clinex.extractors.llm.extractor import LLMExtractor

__all__ = ["LLMExtractor"]
