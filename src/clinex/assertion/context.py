"""ConText (medspaCy) around mentions: the cues in a mention's sentence and the section it sits in.

ConText runs with medspaCy's default English rules and clinex's extra rules in
``data/context_rules.json``. ConText categories map to flags: NEGATED_EXISTENCE → negated,
POSSIBLE_EXISTENCE → uncertain, HISTORICAL → historical, HYPOTHETICAL → hypothetical,
FAMILY → family. What ConText sees around one mention is a :class:`SpanContext`; turning it
into flags is the assertor's work (:mod:`clinex.assertion.assertor`).
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from clinex.text.sections import Section, blank_nlp
from clinex.text.sentences import split_sentences

CATEGORY_FLAGS = {
    "NEGATED_EXISTENCE": "negated",
    "POSSIBLE_EXISTENCE": "uncertain",
    "HISTORICAL": "historical",
    "HYPOTHETICAL": "hypothetical",
    "FAMILY": "family",
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


def span_contexts(
    text: str,
    spans: Sequence[tuple[int, int]],
    sections: Sequence[Section],
    leading_section: str | None = None,
    *,
    sentences: Sequence[tuple[int, int]] | None = None,
) -> list[SpanContext]:
    """The :class:`SpanContext` of each span of ``text`` (``sentences``: those of ``text``, as
    :func:`~clinex.text.sentences.split_sentences` finds them, when already known).

    ConText runs only on the sentences that hold a span, one sentence at a time (its scopes end
    at the sentence anyway), which keeps long notes with many mentions linear in time.
    """
    cues: list[set[str]] = [set() for _ in spans]
    sentence_of: list[tuple[int, int]] = [(0, len(text))] * len(spans)
    headers = [(s.start, s.body_start) for s in sections if s.body_start > s.start]
    found = split_sentences(text) if sentences is None else sentences
    header_starts = [h[0] for h in headers]
    for (start, end), members in _by_sentence(found, spans, len(text)).items():
        _run_context(
            _without_headers(
                text,
                start,
                end,
                _overlapping(headers, header_starts, start, end),
                [spans[i] for i in members],
            ),
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
        # Before the piece's first header the section carried over from the piece before holds,
        # also where the Sectionizer opened the piece with a header-less section of its own.
        headerless = at <= 0 and (not sections or sections[0].body_start == sections[0].start)
        if category is None and (not sections or start < sections[0].start or headerless):
            category = leading_section
        contexts.append(SpanContext(frozenset(cues[i]), category, sentence_of[i]))
    return contexts


def _by_sentence(
    sentences: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]], length: int
) -> dict[tuple[int, int], list[int]]:
    """Span indices grouped by the sentence holding them (sentences merge when a span crosses)."""
    starts = [s for s, _ in sentences]
    groups: dict[tuple[int, int], list[int]] = {}
    for i in sorted(range(len(spans)), key=lambda i: spans[i]):
        start, end = spans[i]
        at = max(bisect.bisect_right(starts, start) - 1, 0)
        if not sentences:
            window = (0, length)
        else:
            last = at
            while last + 1 < len(sentences) and sentences[last][1] < end:
                last += 1
            window = (min(sentences[at][0], start), max(sentences[last][1], end))
        groups.setdefault(window, []).append(i)
    return groups


def _overlapping(
    headers: Sequence[tuple[int, int]], starts: Sequence[int], start: int, end: int
) -> Sequence[tuple[int, int]]:
    """The headers (sorted, not overlapping) that reach into ``[start, end)``."""
    first = max(bisect.bisect_right(starts, start) - 1, 0)
    last = bisect.bisect_left(starts, end)
    return [h for h in headers[first:last] if h[1] > start]


def _without_headers(
    text: str, start: int, end: int, headers: Sequence[tuple[int, int]], keep: Sequence[tuple[int, int]]
) -> str:
    """``text[start:end]`` with section headers blanked (same length, so offsets hold).

    A header shares a line, and so a sentence, with its first words ("Social and family history:
    Ex-smoker ..."): its words must not act as ConText cues ("family history") on the body. The
    section itself still counts, through the assertor's section flags. Characters of ``keep`` (the
    mentions) stay, so a mention inside a header is still assessed.
    """
    chars = list(text[start:end])
    for header_start, header_end in headers:
        kept = [(s, e) for s, e in keep if s < header_end and header_start < e]
        for at in range(max(header_start, start), min(header_end, end)):
            if not any(s <= at < e for s, e in kept):
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
