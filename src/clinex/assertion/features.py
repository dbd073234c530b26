"""The features the learned assertion layer reads for one mention (sparse, binary).

The flags ConText's cues set in its sentence, its section category, the words left and right of
it in its sentence, its own words (outside sections that list current problems), and whether it
stands alone in its sentence.
"""

from __future__ import annotations

import itertools
import re

from clinex.assertion.context import SpanContext

#: Sections that list the patient's current problems (medspaCy/clinex categories).
CURRENT_SECTIONS = frozenset({"diagnoses", "problem_list", "observation_and_plan", "chief_complaint"})
_LEFT_WORDS = 8
_RIGHT_WORDS = 6
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[:;]")


def span_features(text: str, span: tuple[int, int], context: SpanContext) -> list[str]:
    """The sparse features of the mention ``text[span[0]:span[1]]`` (sorted, no duplicates)."""
    start, end = span
    first, last = context.sentence
    left = _words_before(text, first, start)
    right = _words_after(text, end, last)
    features = {f"cue:{flag}" for flag in context.cues}
    features.add(f"section:{context.section}")
    features.update(f"left:{w}" for w in left)
    features.update(f"left2:{a}_{b}" for a, b in itertools.pairwise(left))
    features.update(f"right:{w}" for w in right)
    if context.section not in CURRENT_SECTIONS:
        # Outside a section that lists current problems, what the condition is counts (a bare
        # "Hypertension." line is mostly past history in annotated notes); under "Diagnoses:"
        # or "Assessment:" the section decides, so these features are not emitted there.
        features.update(f"word:{w}" for w in WORD.findall(text[start:end].lower()))
    if left:
        features.add(f"left1:{left[-1]}")
    if right:
        features.add(f"right1:{right[0]}")
    words_left = [w for w in left if w not in ":;"]
    if not words_left:
        features.add("first")
        if context.section not in CURRENT_SECTIONS and not [w for w in right if w not in ":;"]:
            features.add("alone")
    return sorted(features)


def _words_before(text: str, first: int, start: int) -> list[str]:
    """The last :data:`_LEFT_WORDS` words of ``text[first:start]`` (lowercased), reading only as
    far back as they reach: a mention late in a very long sentence costs no more than one early.
    A slice cut inside a word yields the word's tail first; with more words than needed that tail
    is dropped, and the regex has no look-behind, so the words are those of the whole slice."""
    reach = 16 * _LEFT_WORDS
    while True:
        begin = max(first, start - reach)
        words = WORD.findall(text[begin:start].lower())
        if begin == first or len(words) > _LEFT_WORDS:
            return words[-_LEFT_WORDS:]
        reach *= 4


def _words_after(text: str, end: int, last: int) -> list[str]:
    """The first :data:`_RIGHT_WORDS` words of ``text[end:last]``, read as :func:`_words_before`."""
    reach = 16 * _RIGHT_WORDS
    while True:
        stop = min(last, end + reach)
        words = WORD.findall(text[end:stop].lower())
        if stop == last or len(words) > _RIGHT_WORDS:
            return words[:_RIGHT_WORDS]
        reach *= 4
