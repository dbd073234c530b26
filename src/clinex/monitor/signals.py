"""A monitored signal, its status, and the tests that decide it.

Every signal pairs an effect size (how far CUR moved from REF: a KS statistic, a
Jensen–Shannon divergence, a difference in shares, an AUC) with a test of chance (a p-value):
``alarm`` needs the effect at or above its alarm threshold *and* p below :data:`ALARM_P`,
``warn`` the warn threshold and p below :data:`WARN_P`. The effect thresholds keep a large
sample's trivial differences quiet; the p-values keep a small sample's noise quiet, so REF and
CUR from one distribution rarely raise anything (tested over 20 resampled pairs).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

Status = Literal["ok", "warn", "alarm", "n/a"]
STATUSES: tuple[Status, ...] = ("ok", "warn", "alarm", "n/a")
WARN_P = 0.01
ALARM_P = 0.001


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Effect sizes at which a signal warns and alarms (p-values permitting)."""

    warn: float
    alarm: float


@dataclass(slots=True, kw_only=True)
class Signal:
    """One monitored quantity: REF and CUR summaries, effect, p-value, status, examples."""

    name: str
    group: str  # "input" | "output" | "estimate"
    description: str
    statistic: str
    effect: float | None
    p_value: float | None
    thresholds: Thresholds | None
    ref: Any = None
    cur: Any = None
    status: Status = "n/a"
    detail: str = ""
    #: What moved it most: ids, spans, names, never whole notes.
    examples: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.status == "n/a" and self.effect is not None and self.thresholds is not None:
            self.status = decide(self.effect, self.p_value, self.thresholds)

    @classmethod
    def untested(
        cls, name: str, group: str, description: str, statistic: str, why: str, **summaries: Any
    ) -> Signal:
        """A signal that could not be computed here, with the reason (status ``n/a``)."""
        return cls(
            name=name,
            group=group,
            description=description,
            statistic=statistic,
            effect=None,
            p_value=None,
            thresholds=None,
            detail=why,
            **summaries,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "group": self.group,
            "description": self.description,
            "statistic": self.statistic,
            "effect": self.effect,
            "p_value": self.p_value,
            "warn": None if self.thresholds is None else self.thresholds.warn,
            "alarm": None if self.thresholds is None else self.thresholds.alarm,
            "ref": self.ref,
            "cur": self.cur,
            "status": self.status,
            "detail": self.detail,
            "examples": self.examples,
        }


def decide(effect: float, p_value: float | None, thresholds: Thresholds) -> Status:
    p = 1.0 if p_value is None else p_value
    if effect >= thresholds.alarm and p < ALARM_P:
        return "alarm"
    if effect >= thresholds.warn and p < WARN_P:
        return "warn"
    return "ok"


def ks(ref: Sequence[float], cur: Sequence[float]) -> tuple[float | None, float | None]:
    """Two-sample Kolmogorov–Smirnov statistic and p-value (None where a side is empty)."""
    if not ref or not cur:
        return None, None
    from scipy.stats import ks_2samp

    with warnings.catch_warnings():
        # Where the exact distribution cannot be computed scipy falls back to the asymptotic
        # one and says so; either is a p-value.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = ks_2samp(ref, cur)
    return float(result.statistic), float(result.pvalue)


def jensen_shannon(ref: Mapping[str, int], cur: Mapping[str, int]) -> float | None:
    """Jensen–Shannon divergence (base 2, in [0, 1]) of two count distributions."""
    keys = sorted(set(ref) | set(cur))
    p = np.array([ref.get(k, 0) for k in keys], dtype=np.float64)
    q = np.array([cur.get(k, 0) for k in keys], dtype=np.float64)
    if p.sum() == 0 or q.sum() == 0:
        return None
    from scipy.spatial.distance import jensenshannon

    return float(jensenshannon(p / p.sum(), q / q.sum(), base=2) ** 2)


def chi_square(ref: Mapping[str, int], cur: Mapping[str, int]) -> float | None:
    """p-value of a chi-square test that two count distributions are one (None if untestable)."""
    keys = [k for k in sorted(set(ref) | set(cur)) if ref.get(k, 0) + cur.get(k, 0) > 0]
    if len(keys) < 2 or not sum(ref.values()) or not sum(cur.values()):
        return None
    from scipy.stats import chi2_contingency

    table = np.array([[ref.get(k, 0) for k in keys], [cur.get(k, 0) for k in keys]])
    return float(chi2_contingency(table).pvalue)


def shares(counts: Counter[str]) -> dict[str, float]:
    total = sum(counts.values())
    return {k: round(v / total, 4) for k, v in counts.most_common()} if total else {}


def moved(ref: Mapping[str, int], cur: Mapping[str, int], limit: int = 5) -> list[dict[str, Any]]:
    """The categories whose share moved most, largest first."""
    total_ref, total_cur = sum(ref.values()) or 1, sum(cur.values()) or 1
    moves = sorted(
        (-abs(cur.get(k, 0) / total_cur - ref.get(k, 0) / total_ref), k) for k in set(ref) | set(cur)
    )
    return [
        {
            "category": k,
            "ref_share": round(ref.get(k, 0) / total_ref, 4),
            "cur_share": round(cur.get(k, 0) / total_cur, 4),
        }
        for _, k in moves[:limit]
    ]
