"""The BIO tagging scheme: entity spans and attribute spans as one sequence of token labels.

BIO over one softmax (rather than span enumeration) because in clinical letters an attribute
("500 mg", "twice daily", "13.2") sits beside its entity, never inside it, so spans do not
nest; one label per token keeps training and decoding linear in the note length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from clinex.core.types import ASSERTION_FLAGS, ATTRIBUTES, ENTITY_TYPES

#: Attribute kinds tagged as spans of their own, linked to an entity afterwards.
ATTRIBUTE_TYPES: tuple[str, ...] = tuple(dict.fromkeys(a for attrs in ATTRIBUTES.values() for a in attrs))
SPAN_TYPES: tuple[str, ...] = ENTITY_TYPES + ATTRIBUTE_TYPES
LABELS: tuple[str, ...] = ("O", *(f"{p}-{t}" for t in SPAN_TYPES for p in ("B", "I")))
LABEL_IDS: dict[str, int] = {label: i for i, label in enumerate(LABELS)}
FLAGS: tuple[str, ...] = ASSERTION_FLAGS
#: Label id of tokens the loss ignores (padding and special tokens).
IGNORE = -100


@dataclass(frozen=True, slots=True)
class CharSpan:
    """A typed character span ``[start, end)`` of the note."""

    type: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class TaggedSpan:
    """A decoded span: its type, character interval, token interval and mean label probability."""

    type: str
    start: int
    end: int
    first_token: int
    last_token: int
    score: float


def encode_spans(offsets: Sequence[tuple[int, int]], spans: Sequence[CharSpan]) -> list[int]:
    """Token label ids for ``spans``: B on the first token a span touches, I on the rest.

    Spans are applied in order; a token already labelled keeps its first label, so an
    overlapping later span cannot split an earlier one.
    """
    labels = [LABEL_IDS["O"]] * len(offsets)
    for span in spans:
        inside = [i for i, (s, e) in enumerate(offsets) if s < span.end and e > span.start and e > s]
        if not inside or any(labels[i] != LABEL_IDS["O"] for i in inside):
            continue
        labels[inside[0]] = LABEL_IDS[f"B-{span.type}"]
        for i in inside[1:]:
            labels[i] = LABEL_IDS[f"I-{span.type}"]
    return labels


def decode_spans(
    label_ids: Sequence[int], scores: Sequence[float], offsets: Sequence[tuple[int, int]]
) -> list[TaggedSpan]:
    """Spans from per-token label ids; an I without a matching open span starts a new one."""
    spans: list[TaggedSpan] = []
    current: str | None = None
    first = 0

    def close(last: int) -> None:
        if current is not None:
            window = scores[first : last + 1]
            spans.append(
                TaggedSpan(
                    current, offsets[first][0], offsets[last][1], first, last, sum(window) / len(window)
                )
            )

    for i, label_id in enumerate(label_ids):
        label = LABELS[label_id]
        prefix, _, kind = label.partition("-")
        if prefix == "I" and kind == current:
            continue
        close(i - 1)
        current, first = (kind, i) if prefix in ("B", "I") else (None, i)
    close(len(label_ids) - 1)
    return spans


def _transitions() -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Allowed label transitions: between words (I-X only after B-X/I-X) and inside one word
    (the sub-words of a word continue its label: O stays O, B-X/I-X go on as I-X)."""
    n = len(LABELS)
    between = np.ones((n, n), dtype=bool)
    within = np.zeros((n, n), dtype=bool)
    within[0, 0] = True
    for kind in SPAN_TYPES:
        b, i = LABEL_IDS[f"B-{kind}"], LABEL_IDS[f"I-{kind}"]
        between[:, i] = False
        between[b, i] = between[i, i] = True
        within[b, i] = within[i, i] = True
    return between, within


_BETWEEN, _WITHIN = _transitions()


def viterbi(log_probs: np.ndarray[Any, Any], continues_word: Sequence[bool]) -> list[int]:
    """The most probable label sequence that is valid BIO and labels each word as a whole.

    ``continues_word[i]`` is true when token ``i`` is a sub-word of the same word as token
    ``i - 1``. Greedy per-token argmax splits words and spans ("Hydrocor" + "tis" + "one");
    the constrained path cannot.
    """
    n, n_labels = log_probs.shape
    if n == 0:
        return []
    start = np.where(_BETWEEN[0], log_probs[0], -np.inf)  # as if after an O: no I- first
    score = start
    back = np.zeros((n, n_labels), dtype=np.int64)
    for t in range(1, n):
        allowed = _WITHIN if continues_word[t] else _BETWEEN
        candidates = np.where(allowed, score[:, None], -np.inf)
        back[t] = candidates.argmax(0)
        score = candidates.max(0) + log_probs[t]
    path = [int(score.argmax())]
    for t in range(n - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return path[::-1]
