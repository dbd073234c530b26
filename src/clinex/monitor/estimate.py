"""Precision without labels: the mean calibrated confidence (CBPE-style), REF against CUR.

With confidences that are probabilities of being correct, their mean over a set of facts is the
expected share of correct ones, i.e. the expected precision (NannyML's confidence-based
performance estimation, for extraction). It means that only if the confidences were calibrated
(``Document.meta["calibration"]``) on notes like these; raw scores get no estimate. A drop from
REF to CUR is tested by a bootstrap over notes (each side resampled on its own).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from clinex.core.types import Document
from clinex.monitor.signals import Signal, Thresholds

#: Drop in estimated precision (REF − CUR) that warns and alarms.
DROP = Thresholds(warn=0.05, alarm=0.1)
_RESAMPLES = 2000


def precision_signal(ref: Sequence[Document], cur: Sequence[Document], *, seed: int = 0) -> Signal:
    description = "estimated precision: mean calibrated confidence of the facts (drop from REF to CUR)"
    calibrated = all(d.meta.get("calibration") for d in (*ref, *cur))
    ref_mean, cur_mean = _mean(ref), _mean(cur)
    if not calibrated or ref_mean is None or cur_mean is None:
        why = "no facts on one side"
        if not calibrated:
            why = (
                "confidences are raw on at least one side (no calibrator in Document.meta): not a "
                "probability, so no precision estimate; fit one with `clinex calibrate`"
            )
        return Signal.untested(
            "estimated_precision",
            "estimate",
            description,
            "REF − CUR",
            why,
            ref={"mean_confidence": ref_mean},
            cur={"mean_confidence": cur_mean},
        )
    rng = np.random.default_rng(seed)
    drops = _resampled(ref, rng) - _resampled(cur, rng)
    drop = ref_mean - cur_mean
    p_value = float((1 + np.sum(drops <= 0)) / (1 + len(drops)))
    low, high = (float(v) for v in np.percentile(drops, [2.5, 97.5]))
    return Signal(
        name="estimated_precision",
        group="estimate",
        description=description,
        statistic="REF − CUR",
        effect=drop,
        p_value=p_value,
        thresholds=DROP,
        ref={"precision": round(ref_mean, 4)},
        cur={"precision": round(cur_mean, 4)},
        detail=f"drop {drop:+.3f}, 95 % bootstrap interval [{low:.3f}, {high:.3f}]; realised precision from "
        "review decisions: none given",
    )


def _mean(docs: Sequence[Document]) -> float | None:
    values = [e.confidence for d in docs for e in d.entities]
    return sum(values) / len(values) if values else None


def _resampled(docs: Sequence[Document], rng: np.random.Generator) -> NDArray[np.float64]:
    sums = np.array([sum(e.confidence for e in d.entities) for d in docs])
    counts = np.array([len(d.entities) for d in docs], dtype=np.float64)
    picks = rng.integers(0, len(docs), size=(_RESAMPLES, len(docs)))
    totals = counts[picks].sum(axis=1)
    return np.where(totals > 0, sums[picks].sum(axis=1) / np.maximum(totals, 1), np.nan)
