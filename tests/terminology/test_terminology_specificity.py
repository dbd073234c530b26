"""A code never states more than the text (ICD-10-CM lookup)."""

from __future__ import annotations

import pytest

from clinex.terminology import load
from clinex.terminology.coding import Coder


@pytest.fixture(scope="module")
def coder() -> Coder:
    return Coder(load("icd10cm"))


@pytest.mark.parametrize(
    ("text", "must_not"),
    [
        ("Staphylococcus aureus", "A41"),  # a swab's organism is not sepsis due to it
        ("Concussion with no loss of consciousness", "S06.0X9"),  # "no" is never dropped
    ],
)
def test_lookup_adds_nothing_the_text_does_not_say(coder: Coder, text: str, must_not: str) -> None:
    match = coder.lookup(text)
    assert match is None or not match.concept.code.startswith(must_not), match


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Concussion with no loss of consciousness", "S06.0X0A"),  # "with no" = "without"
        ("Concussion with loss of consciousness", "S06.0X9A"),  # "of unspecified duration" unsaid
        ("injury of tendon of the rotator cuff of shoulder", "S46.009A"),  # "muscle(s) and tendon(s)"
        ("AA amyloidosis", "E85"),  # a modifier of the text may be dropped: a less specific code
    ],
)
def test_what_a_name_leaves_unsaid_still_matches(coder: Coder, text: str, code: str) -> None:
    match = coder.lookup(text)
    assert match is not None and match.concept.code.startswith(code), match
