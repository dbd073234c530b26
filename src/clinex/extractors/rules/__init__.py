"""The ``rules`` extractor: terminology lexicons, dose/value patterns and medspaCy ConText."""

from clinex.extractors.rules.extractor import RulesExtractor

__all__ = ["RulesExtractor"]
