"""Assertion detection (negated, historical, family, uncertain, hypothetical) for any extractor."""

from clinex.assertion.context import assert_entities

__all__ = ["assert_entities"]
