"""Assertion detection with medspaCy: ConText modifiers within sentences, plus the section a
mention sits in (medspaCy's Sectionizer).

ConText runs with medspaCy's default English rules and clinex's extra rules in
``data/context_rules.json``. ConText categories map to flags: NEGATED_EXISTENCE → negated,
POSSIBLE_EXISTENCE → uncertain, HISTORICAL → historical, HYPOTHETICAL → hypothetical,
FAMILY → family. Sections add flags as in :data:`SECTION_FLAGS` (a mention under "Family
History" is about a relative; one under "Past Medical History" is historical).

With ``learned=True`` (the default) the sentence-level decision for the flags in
:data:`clinex.assertion.learned.LEARNED_FLAGS` is taken by a logistic model over the ConText
cues, the section and the words around the mention (:mod:`clinex.assertion.learned`); the other
flags and the section flags are the rules'.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from clinex.core.types import ASSERTION_FLAGS, Assertion, Entity
from clinex.text.chunking import DEFAULT_CHUNK_CHARS, windows
from clinex.text.sections import Section, blank_nlp, sections_of_doc
from clinex.text.sentences import split_sentences

CATEGORY_FLAGS = {
    "NEGATED_EXISTENCE": "negated",
    "POSSIBLE_EXISTENCE": "uncertain",
    "HISTORICAL": "historical",
    "HYPOTHETICAL": "hypothetical",
    "FAMILY": "family",
}
SECTION_FLAGS = {
    "family_history": "family",
    "past_medical_history": "historical",
    "past_surgical_history": "historical",
    "patient_instructions": "hypothetical",
    "patient_education": "hypothetical",
}


@dataclass(frozen=True, slots=True)
class SpanContext:
    """What the rules see around one mention: ConText's flags from its sentence, the section
    category it sits in, and the ``[start, end)`` of its sentence."""

    cues: frozenset[str]
    section: str | None
    sentence: tuple[int, int]


@functools.cache
def _context() -> Any:
    from medspacy.context import ConText, ConTextRule

    context = ConText(blank_nlp(), rules="default", max_scope=None)
    with resources.as_file(resources.files("clinex.assertion") / "data" / "context_rules.json") as path:
        context.add(ConTextRule.from_json(str(path)))
    return context


def assert_entities(text: str, entities: Sequence[Entity], *, learned: bool = True) -> list[Entity]:
    """``entities`` with assertion flags set from ConText and sections (flags already set stay).

    ``learned`` lets the packaged learned model take the negated/historical decision (see the
    module docstring). Entities without a span are returned unchanged; their order is kept.
    """
    flags: dict[int, set[str]] = {}
    previous_section: str | None = None
    spans = [(i, e.start, e.end) for i, e in enumerate(entities) if e.start is not None and e.end is not None]
    # Long notes are assessed window by window (bounded memory).
    for window in windows(text, max_chars=DEFAULT_CHUNK_CHARS):
        piece = text[window.start : window.end]
        inside = [
            (i, s - window.start, e - window.start) for i, s, e in spans if window.start <= s < window.end
        ]
        sections = sections_of_doc(blank_nlp()(piece))
        if inside:
            found = assert_spans(
                piece,
                [(s, e) for _, s, e in inside],
                sections,
                previous_section,
                learned=learned,
            )
            for (i, _, _), names in zip(inside, found, strict=True):
                flags[i] = names
        if sections and sections[-1].category is not None:
            previous_section = sections[-1].category
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
) -> list[set[str]]:
    """Assertion flag names for character spans of ``text`` with its ``sections``.

    ``leading_section`` is the section category in force before the first header of ``text``
    (when ``text`` is a later chunk of a long note).
    """
    from clinex.assertion.learned import packaged_model

    contexts = span_contexts(text, spans, sections, leading_section)
    if learned:
        results = [packaged_model().flags_of(text, s, c) for s, c in zip(spans, contexts, strict=True)]
    else:
        results = [set(c.cues) for c in contexts]
    for flags, found in zip(results, contexts, strict=True):
        if found.section in SECTION_FLAGS:
            flags.add(SECTION_FLAGS[found.section])
    return results


def span_contexts(
    text: str,
    spans: Sequence[tuple[int, int]],
    sections: Sequence[Section],
    leading_section: str | None = None,
) -> list[SpanContext]:
    """The :class:`SpanContext` of each span of ``text``.

    ConText runs only on the sentences that hold a span, one sentence at a time (its scopes end
    at the sentence anyway), which keeps long notes with many mentions linear in time.
    """
    cues: list[set[str]] = [set() for _ in spans]
    sentence_of: list[tuple[int, int]] = [(0, len(text))] * len(spans)
    headers = [(s.start, s.body_start) for s in sections if s.body_start > s.start]
    for (start, end), members in _by_sentence(text, spans).items():
        _run_context(
            _without_headers(text, start, end, headers, [spans[i] for i in members]),
            [(spans[i][0] - start, spans[i][1] - start) for i in members],
            [cues[i] for i in members],
        )
        for i in members:
            sentence_of[i] = (start, end)
    starts = [s.start for s in sections]
    contexts = []
    for i, (start, _) in enumerate(spans):
        at = bisect.bisect_right(starts, start) - 1
        category = sections[at].category if at >= 0 and start < sections[at].end else None
        if category is None and (not sections or start < sections[0].start):
            category = leading_section
        contexts.append(SpanContext(frozenset(cues[i]), category, sentence_of[i]))
    return contexts


def _by_sentence(text: str, spans: Sequence[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
    """Span indices grouped by the sentence holding them (sentences merge when a span crosses)."""
    sentences = split_sentences(text)
    starts = [s for s, _ in sentences]
    groups: dict[tuple[int, int], list[int]] = {}
    for i in sorted(range(len(spans)), key=lambda i: spans[i]):
        start, end = spans[i]
        at = max(bisect.bisect_right(starts, start) - 1, 0)
        if not sentences:
            window = (0, len(text))
        else:
            last = at
            while last + 1 < len(sentences) and sentences[last][1] < end:
                last += 1
            window = (min(sentences[at][0], start), max(sentences[last][1], end))
        groups.setdefault(window, []).append(i)
    return groups


def _without_headers(
    text: str, start: int, end: int, headers: Sequence[tuple[int, int]], keep: Sequence[tuple[int, int]]
) -> str:
    """``text[start:end]`` with section headers blanked (same length, so offsets hold).

    A header shares a line, and so a sentence, with its first words ("Social and family history:
    Ex-smoker ..."): its words must not act as ConText cues ("family history") on the body. The
    section itself still counts, through :data:`SECTION_FLAGS`. Characters of ``keep`` (the
    mentions) stay, so a mention inside a header is still assessed.
    """
    chars = list(text[start:end])
    for header_start, header_end in headers:
        for at in range(max(header_start, start), min(header_end, end)):
            if not any(s <= at < e for s, e in keep):
                chars[at - start] = " "
    return "".join(chars)


def _run_context(sentence: str, spans: list[tuple[int, int]], results: list[set[str]]) -> None:
    from spacy.tokens import Span
    from spacy.util import filter_spans

    doc = blank_nlp()(sentence)
    for token in doc:
        token.is_sent_start = token.i == 0
    token_spans: list[Span | None] = [
        doc.char_span(s, e, label="T", alignment_mode="expand") for s, e in spans
    ]
    context = _context()
    # ConText needs non-overlapping ents; overlapping mentions are assessed in further rounds.
    pending = [i for i, span in enumerate(token_spans) if span is not None]
    while pending:
        kept = {(span.start, span.end) for span in filter_spans([token_spans[i] for i in pending])}  # type: ignore[misc]
        chosen, pending = _split_round(pending, token_spans, kept)
        doc.ents = [token_spans[i] for i in chosen]
        context(doc)
        for i, ent in zip(chosen, doc.ents, strict=True):
            for modifier in ent._.modifiers:
                flag = CATEGORY_FLAGS.get(modifier.category)
                if flag:
                    results[i].add(flag)


def _split_round(
    pending: list[int], token_spans: Sequence[Any], kept: set[tuple[int, int]]
) -> tuple[list[int], list[int]]:
    chosen, rest, used = [], [], set()
    for i in pending:
        key = (token_spans[i].start, token_spans[i].end)
        if key in kept and key not in used:
            chosen.append(i)
            used.add(key)
        else:
            rest.append(i)
    chosen.sort(key=lambda i: token_spans[i].start)
    return chosen, rest


def _merge(assertion: Assertion, names: set[str]) -> Assertion:
    if not names:
        return assertion
    return Assertion(**{name: getattr(assertion, name) or name in names for name in ASSERTION_FLAGS})
