"""Bootstrap confidence intervals over documents, and the paired bootstrap test.

Documents are the unit of resampling (entities in one note are not independent). Each
resample draws as many documents as there are, with replacement, sums their counts and
recomputes micro P/R/F1; the interval is the percentile interval of the resamples where the
metric is defined.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Counts = NDArray[np.int64]  # documents x (tp, fp, fn)
Interval = tuple[float, float]


def resample_indices(n_docs: int, n_samples: int, seed: int) -> NDArray[np.int64]:
    """Resampled document indices, one row per bootstrap sample (shared by paired runs)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_docs, size=(n_samples, n_docs), dtype=np.int64)


def _prf(sums: NDArray[np.int64]) -> dict[str, NDArray[np.float64]]:
    tp, fp, fn = (sums[..., i].astype(np.float64) for i in range(3))
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "p": np.where(tp + fp > 0, tp / (tp + fp), np.nan),
            "r": np.where(tp + fn > 0, tp / (tp + fn), np.nan),
            "f": np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan),
        }


def _interval(values: NDArray[np.float64], level: float) -> Interval | None:
    defined = values[~np.isnan(values)]
    if defined.size == 0:
        return None
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(defined, [tail, 100 - tail])
    return float(low), float(high)


def confidence_intervals(
    counts: Counts, indices: NDArray[np.int64], level: float
) -> dict[str, Interval | None]:
    """Percentile intervals of micro P, R and F1 (None where never defined)."""
    if counts.shape[0] == 0 or indices.size == 0:
        return {"p": None, "r": None, "f": None}
    metrics = _prf(counts[indices].sum(axis=1))
    return {name: _interval(values, level) for name, values in metrics.items()}


def resampled(counts: Counts, indices: NDArray[np.int64], metric: str = "f") -> NDArray[np.float64]:
    """The micro metric (``p``, ``r`` or ``f``) of each resample; NaN where it is undefined."""
    if counts.shape[0] == 0 or indices.size == 0:
        return np.full(indices.shape[0], np.nan)
    return _prf(counts[indices].sum(axis=1))[metric]


def percentile_interval(values: NDArray[np.float64], level: float) -> Interval | None:
    """The percentile interval of the defined values (None where none is)."""
    return _interval(values, level)


@dataclass(frozen=True, slots=True)
class PairedTest:
    """Run B minus run A on the same resampled documents."""

    category: str
    metric: str
    baseline: str
    other: str
    delta: float | None
    interval: Interval | None
    p_value: float | None
    samples: int

    def to_dict(self) -> dict[str, object]:
        return {
            "category": self.category,
            "metric": self.metric,
            "baseline": self.baseline,
            "other": self.other,
            "delta": self.delta,
            "ci": self.interval,
            "p_value": self.p_value,
            "samples": self.samples,
        }


def paired_test(
    baseline: Counts,
    other: Counts,
    indices: NDArray[np.int64],
    level: float,
    *,
    category: str,
    names: tuple[str, str],
    metric: str = "f",
) -> PairedTest:
    """Paired bootstrap of the difference in a micro metric; two-sided p-value.

    The p-value is twice the smaller share of resamples on either side of zero (capped at 1),
    the usual percentile form of the paired bootstrap test, counted as ``(k + 1) / (B + 1)``.
    """
    observed_a = _prf(baseline.sum(axis=0))[metric]
    observed_b = _prf(other.sum(axis=0))[metric]
    delta = float(observed_b - observed_a)
    if indices.size == 0 or np.isnan(delta):
        return PairedTest(category, metric, names[0], names[1], None, None, None, 0)
    a = _prf(baseline[indices].sum(axis=1))[metric]
    b = _prf(other[indices].sum(axis=1))[metric]
    deltas = (b - a)[~(np.isnan(a) | np.isnan(b))]
    if deltas.size == 0:
        return PairedTest(category, metric, names[0], names[1], delta, None, None, 0)
    # (k + 1) / (B + 1): a finite number of resamples can never show p = 0.
    below, above = int(np.sum(deltas <= 0)), int(np.sum(deltas >= 0))
    p_value = min(1.0, 2 * (min(below, above) + 1) / (deltas.size + 1))
    return PairedTest(
        category, metric, names[0], names[1], delta, _interval(deltas, level), p_value, int(deltas.size)
    )
