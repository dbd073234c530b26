"""The assertion stage: flags for every entity of a note, from ConText, sections and the learned layer.

For each mention, ConText's cues in its sentence and the section it sits in
(:mod:`clinex.assertion.context`) are the evidence. With the ``learned`` layer (the default) the
packaged logistic model (:mod:`clinex.assertion.learned`) decides the flags of
:data:`~clinex.assertion.learned.LEARNED_FLAGS` from them; with ``context`` the cues are the
flags. Either way a section adds its flag (:data:`SECTION_FLAGS`: a mention under "Family
History" is about a relative; one under "Past Medical History" is historical), and flags an
extractor already set are kept.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from clinex.assertion.context import span_contexts
from clinex.assertion.learned import packaged_model
from clinex.core.types import ASSERTION_FLAGS, Assertion, Entity
from clinex.text.sections import Section
from clinex.text.structure import NoteStructure, prepare

SECTION_FLAGS = {
    "family_history": "family",
    "past_medical_history": "historical",
    "past_surgical_history": "historical",
    "patient_instructions": "hypothetical",
    "patient_education": "hypothetical",
}


def assert_entities(
    text: str,
    entities: Sequence[Entity],
    *,
    learned: bool = True,
    structure: NoteStructure | None = None,
) -> list[Entity]:
    """``entities`` with assertion flags set from ConText and sections (flags already set stay).

    ``learned`` lets the packaged learned model take the negated/historical decision;
    ``structure`` is the note's preprocessing (:func:`clinex.text.structure.prepare`), made here
    when not given. Entities without a span are returned unchanged; their order is kept.
    """
    spans = [(i, e.start, e.end) for i, e in enumerate(entities) if e.start is not None and e.end is not None]
    if not spans:
        return list(entities)
    flags: dict[int, set[str]] = {}
    # By start (a stable sort: equal spans stay in entity order), so each piece finds its spans
    # by bisection: a long note's pieces do not each scan every span.
    spans.sort(key=lambda span: span[1])
    starts = [s for _, s, _ in spans]
    for piece in (structure or prepare(text)).pieces:
        held = spans[bisect.bisect_left(starts, piece.start) : bisect.bisect_left(starts, piece.end)]
        inside = [(i, s - piece.start, e - piece.start) for i, s, e in held]
        if not inside:
            continue
        found = assert_spans(
            text[piece.start : piece.end],
            [(s, e) for _, s, e in inside],
            piece.sections,
            piece.leading_section,
            learned=learned,
            sentences=piece.sentences,
        )
        for (i, _, _), names in zip(inside, found, strict=True):
            flags[i] = names
    return [
        e.with_(assertion=_merge(e.assertion, flags[i])) if i in flags else e for i, e in enumerate(entities)
    ]


def assert_spans(
    text: str,
    spans: Sequence[tuple[int, int]],
    sections: Sequence[Section],
    leading_section: str | None = None,
    *,
    learned: bool = True,
    sentences: Sequence[tuple[int, int]] | None = None,
) -> list[set[str]]:
    """Assertion flag names for character spans of ``text`` with its ``sections``.

    ``leading_section`` is the section category in force before the first header of ``text``
    (when ``text`` is a later piece of a long note).
    """
    contexts = span_contexts(text, spans, sections, leading_section, sentences=sentences)
    if learned:
        model = packaged_model()
        results = [model.flags_of(text, s, c) for s, c in zip(spans, contexts, strict=True)]
    else:
        results = [set(c.cues) for c in contexts]
    for flags, found in zip(results, contexts, strict=True):
        if found.section in SECTION_FLAGS:
            flags.add(SECTION_FLAGS[found.section])
    return results


def _merge(assertion: Assertion, names: set[str]) -> Assertion:
    if not names:
        return assertion
    return Assertion(**{name: getattr(assertion, name) or name in names for name in ASSERTION_FLAGS})
