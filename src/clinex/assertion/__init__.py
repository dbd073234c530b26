"""The assertion stage (negated, historical, family, uncertain, hypothetical) for every extractor.

Modules in the order they build on each other: :mod:`~clinex.assertion.context` (ConText cues
and sections around a mention), :mod:`~clinex.assertion.features` (what the learned layer reads),
:mod:`~clinex.assertion.learned` (the logistic layer), :mod:`~clinex.assertion.assertor` (the stage
the pipeline runs).
"""

from clinex.assertion.assertor import SECTION_FLAGS, assert_entities

__all__ = ["SECTION_FLAGS", "assert_entities"]
