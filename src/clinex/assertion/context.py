"""ConText (medspaCy) around mentions: the cues in a mention's sentence and the section it sits in.

ConText runs with medspaCy's default English rules and clinex's extra rules in
``data/context_rules.json`` (whose ``replaces_default`` names the default rules it replaces). ConText categories map to flags: NEGATED_EXISTENCE → negated,
POSSIBLE_EXISTENCE → uncertain, HISTORICAL → historical, HYPOTHETICAL → hypothetical,
FAMILY → family. What ConText sees around one mention is a :class:`SpanContext`; turning it
into flags is the assertor's work (:mod:`clinex.assertion.assertor`).
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Mapping, Sequence
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

    context = ConText(blank_nlp(), rules=None, max_scope=None)
    with resources.as_file(resources.files("clinex.assertion") / "data" / "context_rules.json") as path:
        ours = ConTextRule.from_json(str(path))
        replaced = set(json.loads(path.read_text(encoding="utf-8")).get("replaces_default", []))
    # A default rule clinex replaces is left out: medspaCy reads "evaluate for X" and "test for
    # X" as X refuted, where the note asks whether X is there (clinex: uncertain).
    defaults = ConTextRule.from_json(context.DEFAULT_RULES_FILEPATH)
    context.add([rule for rule in defaults if rule.literal.lower() not in replaced])
    context.add(ours)
    return context


#: What one token of a ConText rule must be: ("LOWER" | "ORTH", the spellings it may have),
#: ("REGEX", (attribute, compiled pattern)) or ("NUM", None) for a number.
_Need = tuple[str, Any]


@dataclass(frozen=True, slots=True)
class _Triggers:
    """The tokens each flag-giving ConText rule needs. A sentence in which no such rule finds
    every token it needs gets no flag from ConText, so its matchers (most of its time) need not
    run there. Exact, not a guess: read from the rules' own patterns (every word of a literal;
    every token of a pattern that must occur); a rule it cannot read makes ConText run always.
    Rules that give no flag (pseudo, terminate) only shape the scopes of the others.

    Each rule is indexed by one word it needs (its *anchor*), so a sentence's words pick the few
    rules worth checking; ``always`` are rules that need no word (a number, a regex)."""

    rules: tuple[tuple[_Need, ...], ...]
    by_lower: Mapping[str, tuple[int, ...]]
    by_orth: Mapping[str, tuple[int, ...]]
    always: tuple[int, ...]

    def fires_in(self, doc: Any) -> bool:
        lower = {t.lower_ for t in doc}
        orth = {t.text for t in doc}
        candidates = set(self.always)
        for words, index in ((lower, self.by_lower), (orth, self.by_orth)):
            for word in words & index.keys():
                candidates.update(index[word])
        if not candidates:
            return False
        numbers = any(t.like_num for t in doc)
        return any(all(_met(need, lower, orth, numbers) for need in self.rules[i]) for i in candidates)

    @classmethod
    def of(cls, rules: Sequence[tuple[_Need, ...]]) -> _Triggers:
        by: dict[str, dict[str, list[int]]] = {"LOWER": {}, "ORTH": {}}
        always: list[int] = []
        for i, rule in enumerate(rules):
            words = [need for need in rule if need[0] in by]
            if not words:
                always.append(i)
                continue
            kind, spellings = min(words, key=lambda need: len(need[1]))
            for word in spellings:
                by[kind].setdefault(word, []).append(i)
        return cls(
            tuple(rules),
            {w: tuple(ids) for w, ids in by["LOWER"].items()},
            {w: tuple(ids) for w, ids in by["ORTH"].items()},
            tuple(always),
        )


def _met(need: _Need, lower: set[str], orth: set[str], numbers: bool) -> bool:
    kind, value = need
    if kind == "LOWER":
        return not lower.isdisjoint(value)
    if kind == "ORTH":
        return not orth.isdisjoint(value)
    if kind == "REGEX":
        attribute, pattern = value
        return any(pattern.search(word) for word in (lower if attribute == "LOWER" else orth))
    return numbers


#: A pattern token with one of these operators must occur (spaCy: absent = exactly once).
_REQUIRED_OPS = (None, "1", "+")


@functools.cache
def _triggers() -> _Triggers:
    rules: list[tuple[_Need, ...]] = []
    for rule in _context().rules:
        if rule.category not in CATEGORY_FLAGS:
            continue
        needs = _needs(rule)
        if needs is None:
            return _Triggers.of([()])  # a rule this filter cannot read: ConText runs on every sentence
        rules.append(needs)
    return _Triggers.of(rules)


def _needs(rule: Any) -> tuple[_Need, ...] | None:
    if rule.pattern is None:  # a literal, matched on the lower-case words
        return tuple(("LOWER", frozenset({t.lower_})) for t in blank_nlp()(rule.literal.lower()))
    if not isinstance(rule.pattern, list):
        return None  # a regular expression over the text
    needs: list[_Need] = []
    for token in rule.pattern:
        if token.get("OP") not in _REQUIRED_OPS:
            continue
        for attribute, value in token.items():
            if attribute == "OP":
                continue
            attribute = "ORTH" if attribute == "TEXT" else attribute
            if attribute == "LIKE_NUM" and value is True:
                needs.append(("NUM", None))
            elif attribute not in ("LOWER", "ORTH"):
                return None
            elif isinstance(value, str):
                needs.append((attribute, frozenset({value.lower() if attribute == "LOWER" else value})))
            elif isinstance(value, dict) and set(value) == {"IN"}:
                spelt = (str(w).lower() if attribute == "LOWER" else str(w) for w in value["IN"])
                needs.append((attribute, frozenset(spelt)))
            elif isinstance(value, dict) and set(value) == {"REGEX"}:
                needs.append(("REGEX", (attribute, re.compile(value["REGEX"]))))
            else:
                return None
    return tuple(needs)


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
    if not _triggers().fires_in(doc):
        return  # no flag-giving rule can match here: ConText would find no modifier (most sentences)
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
