"""Precision, recall and F1 from counts, and their averages.

An undefined ratio is ``None``, never a silent zero: precision without predictions, recall
without gold, F1 with neither. F1 is ``2tp / (2tp + fp + fn)``, so it is defined (and 0) when
there is gold but no prediction, or predictions but no gold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(slots=True)
class PRFScore:
    """A true/false positive and false negative counter (spaCy's ``PRFScore`` idea)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def count(self, gold: bool, predicted: bool) -> None:
        """Count one binary decision against its gold value."""
        self.tp += gold and predicted
        self.fp += predicted and not gold
        self.fn += gold and not predicted

    def __iadd__(self, other: PRFScore) -> PRFScore:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        return self

    def __add__(self, other: PRFScore) -> PRFScore:
        return PRFScore(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    @property
    def precision(self) -> float | None:
        return ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float | None:
        return ratio(self.tp, self.tp + self.fn)

    @property
    def fscore(self) -> float | None:
        return ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    def to_dict(self) -> dict[str, float | int | None]:
        """Flat ``p``/``r``/``f`` and the counts they come from."""
        return {
            "p": self.precision,
            "r": self.recall,
            "f": self.fscore,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
        }


def mean_defined(values: Iterable[float | None]) -> float | None:
    """The mean of the defined values, None if there are none."""
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


def macro(scores: Iterable[PRFScore]) -> dict[str, float | None]:
    """Unweighted means of per-label P, R and F1 over the labels where each is defined."""
    listed = list(scores)
    return {
        "p": mean_defined(s.precision for s in listed),
        "r": mean_defined(s.recall for s in listed),
        "f": mean_defined(s.fscore for s in listed),
    }
