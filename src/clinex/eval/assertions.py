"""Assertion scoring on matched entity pairs: class accuracy, per-class and per-flag F1.

Flags may co-occur, so each entity also gets one *class* for the confusion matrix, by
precedence: negated, family, hypothetical, uncertain, historical, else affirmed (a negated
family finding is "negated": what matters most is that it is absent).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from clinex.core.types import ASSERTION_FLAGS, Assertion
from clinex.eval.scores import PRFScore, ratio

PRECEDENCE: tuple[str, ...] = ("negated", "family", "hypothetical", "uncertain", "historical")
CLASSES: tuple[str, ...] = ("affirmed", *PRECEDENCE)


def assertion_class(assertion: Assertion) -> str:
    return next((flag for flag in PRECEDENCE if getattr(assertion, flag)), "affirmed")


@dataclass(slots=True)
class AssertionScores:
    """Confusion of assertion classes (gold row, predicted column) and per-flag counts."""

    confusion: dict[str, dict[str, int]] = field(
        default_factory=lambda: {g: dict.fromkeys(CLASSES, 0) for g in CLASSES}
    )
    flags: dict[str, PRFScore] = field(default_factory=lambda: {f: PRFScore() for f in ASSERTION_FLAGS})

    def add(self, gold: Assertion, pred: Assertion) -> None:
        self.confusion[assertion_class(gold)][assertion_class(pred)] += 1
        for flag, score in self.flags.items():
            score.count(getattr(gold, flag), getattr(pred, flag))

    @property
    def total(self) -> int:
        return sum(sum(row.values()) for row in self.confusion.values())

    @property
    def accuracy(self) -> float | None:
        return ratio(sum(self.confusion[c][c] for c in CLASSES), self.total)

    def class_scores(self) -> dict[str, PRFScore]:
        """One-vs-rest counts per class from the confusion matrix."""
        scores = {}
        for c in CLASSES:
            tp = self.confusion[c][c]
            predicted = sum(self.confusion[g][c] for g in CLASSES)
            scores[c] = PRFScore(tp, predicted - tp, sum(self.confusion[c].values()) - tp)
        return scores

    def to_dict(self) -> dict[str, object]:
        return {
            "pairs": self.total,
            "accuracy": self.accuracy,
            "classes": {c: s.to_dict() for c, s in self.class_scores().items()},
            "flags": {f: s.to_dict() for f, s in self.flags.items()},
            "confusion": self.confusion,
        }


def score_assertions(pairs: Iterable[tuple[Assertion, Assertion]]) -> AssertionScores:
    """Scores of (gold, predicted) assertion pairs."""
    scores = AssertionScores()
    for gold, pred in pairs:
        scores.add(gold, pred)
    return scores
