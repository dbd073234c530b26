"""Calibration of confidences: reliability curve and expected calibration error (ECE).

A prediction is correct when the matching paired it with a gold entity. Confidences fall into
equal-width bins over [0, 1] (1.0 in the last bin); ECE is the count-weighted mean gap
``|accuracy - mean confidence|`` over the bins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReliabilityBin:
    low: float
    high: float
    count: int
    confidence: float | None
    accuracy: float | None


@dataclass(frozen=True, slots=True)
class Calibration:
    bins: list[ReliabilityBin]
    ece: float | None
    count: int

    def to_dict(self) -> dict[str, object]:
        return {
            "ece": self.ece,
            "count": self.count,
            "bins": [
                {
                    "low": b.low,
                    "high": b.high,
                    "count": b.count,
                    "confidence": b.confidence,
                    "accuracy": b.accuracy,
                }
                for b in self.bins
            ],
        }


def calibration(confidences: Sequence[float], correct: Sequence[bool], *, n_bins: int = 10) -> Calibration:
    """Reliability bins and ECE of predictions with their correctness (ECE None if none)."""
    if len(confidences) != len(correct):
        raise ValueError("confidences and correctness differ in length")
    members: list[list[int]] = [[] for _ in range(n_bins)]
    for i, confidence in enumerate(confidences):
        members[min(int(confidence * n_bins), n_bins - 1)].append(i)
    bins = []
    gap = 0.0
    for b, indices in enumerate(members):
        mean_confidence = accuracy = None
        if indices:
            mean_confidence = sum(confidences[i] for i in indices) / len(indices)
            accuracy = sum(correct[i] for i in indices) / len(indices)
            gap += len(indices) * abs(accuracy - mean_confidence)
        bins.append(ReliabilityBin(b / n_bins, (b + 1) / n_bins, len(indices), mean_confidence, accuracy))
    total = len(confidences)
    return Calibration(bins, gap / total if total else None, total)
