"""ConText's prefilter skips sentences in which no flag-giving rule can match: it must never
change a flag (it is exact, not a heuristic), and it must actually skip sentences."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clinex.assertion import context
from clinex.corpora import read_negex_rows
from clinex.text.sections import find_sections


def _cues(sentence: str, condition: str) -> frozenset[str] | None:
    found = re.search(r"\s+".join(map(re.escape, condition.split())), sentence, re.IGNORECASE)
    if not found:
        return None
    (got,) = context.span_contexts(sentence, [found.span()], find_sections(sentence))
    return got.cues


def test_flags_are_the_same_with_and_without_the_prefilter(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = read_negex_rows(shared_data / "negex" / "dev.tsv")[::3]
    filtered = [_cues(row.sentence, row.condition) for row in rows]
    monkeypatch.setattr(context, "_triggers", lambda: context._Triggers.of([()]))  # every sentence fires
    unfiltered = [_cues(row.sentence, row.condition) for row in rows]
    assert filtered == unfiltered
    assert sum(bool(c) for c in unfiltered) > 50  # the comparison holds flags, not only empty sets


def test_every_literal_rule_passes_the_prefilter_in_a_sentence_that_holds_it() -> None:
    triggers = context._triggers()
    literals = [
        r.literal
        for r in context._context().rules
        if r.pattern is None and r.category in context.CATEGORY_FLAGS
    ]
    assert literals
    for literal in literals:
        sentence = f"The patient reports {literal} pneumonia today."
        assert triggers.fires_in(context.blank_nlp()(sentence)), literal


def test_a_sentence_without_any_cue_is_skipped() -> None:
    triggers = context._triggers()
    sentence = "Blood pressure was 120/80 mmHg on admission."
    assert not triggers.fires_in(context.blank_nlp()(sentence))
    assert triggers.fires_in(context.blank_nlp()("There was no fever."))
