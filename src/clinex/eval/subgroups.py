"""Scores by subgroup of documents: the patient's age band and sex, the note type, the site and
the period of the note's date, wherever the gold says them (:class:`clinex.corpora.jsonl.Subject`,
read from a JSONL record's ``subject`` or from the Patient, Encounter and DocumentReference of a
FHIR Bundle).

Every category scored on the whole set is scored again in each group, from the counts of the
group's documents. A group's interval comes from a bootstrap of its own documents (resampled
within the group, so its size stays as observed; seeded by the dimension and group name, so every
run draws the same resamples). For each dimension and category the *largest gap* is the pair of
groups, among those with at least ``min_documents`` documents, whose micro F1 differs most; its
interval is the percentile interval of the difference over resample pairs (resample b of one
group against resample b of the other), and the gap is *flagged* when that interval excludes
zero. The pair is chosen after looking at the data and many gaps are looked at, so a flag is a
lead to examine, not a test corrected for multiple comparisons.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
from numpy.typing import NDArray

from clinex.corpora import Corpus, detect_format, read_corpus
from clinex.corpora.fhir import read_fhir_with_subjects
from clinex.corpora.jsonl import read_jsonl_with_subjects
from clinex.corpora.subject import Subject
from clinex.eval.bootstrap import (
    Interval,
    confidence_intervals,
    percentile_interval,
    resample_indices,
    resampled,
)
from clinex.eval.results import CategoryResult

#: Age bands in whole years at the note's date: (name, lowest age), youngest first.
AGE_BANDS: tuple[tuple[str, int], ...] = (
    ("<18", 0),
    ("18–44", 18),
    ("45–64", 45),
    ("65–74", 65),
    ("≥75", 75),
)
#: The dimensions documents are grouped by, in report order.
DIMENSIONS: tuple[str, ...] = ("age", "sex", "note_type", "site", "period")
Period = Literal["year", "quarter"]
PERIODS: tuple[str, ...] = get_args(Period)


def age_band(age: int) -> str:
    """The name of the band ``age`` falls in, e.g. ``"65–74"`` or ``"≥75"``."""
    return next(name for name, lowest in reversed(AGE_BANDS) if age >= lowest)


def group_of(subject: Subject, dimension: str, period: Period = "year") -> str | None:
    """The group of a document in one dimension; None where the gold does not say."""
    if dimension == "age":
        return None if subject.age is None else age_band(subject.age)
    if dimension == "period":
        day = subject.date
        if day is None:
            return None
        return str(day.year) if period == "year" else f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    value = getattr(subject, dimension)
    return None if value is None else str(value)


@dataclass(slots=True, kw_only=True)
class Group:
    """One group of a dimension: how many documents it holds and each category's scores in it."""

    dimension: str
    name: str
    documents: int
    results: dict[str, CategoryResult]


@dataclass(frozen=True, slots=True, kw_only=True)
class Gap:
    """The largest difference in micro F1 between two groups of one dimension, in one category."""

    dimension: str
    category: str
    low: str
    high: str
    low_f: float
    high_f: float
    #: Percentile interval of ``F1(high) - F1(low)`` over the resample pairs (None without any).
    interval: Interval | None
    samples: int

    @property
    def delta(self) -> float:
        return self.high_f - self.low_f

    @property
    def flagged(self) -> bool:
        """Whether the interval of the difference excludes zero."""
        return self.interval is not None and (self.interval[0] > 0 or self.interval[1] < 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "category": self.category,
            "groups": [self.low, self.high],
            "f": [self.low_f, self.high_f],
            "delta": self.delta,
            "ci": self.interval,
            "samples": self.samples,
            "flagged": self.flagged,
        }


@dataclass(slots=True, kw_only=True)
class Subgroups:
    """Scores per group of every dimension the gold carries, and the largest gap of each."""

    groups: dict[str, list[Group]]
    #: Documents the gold says nothing about, per dimension.
    missing: dict[str, int]
    gaps: list[Gap]
    min_documents: int
    period: str

    def gap(self, dimension: str, category: str) -> Gap | None:
        return next((g for g in self.gaps if (g.dimension, g.category) == (dimension, category)), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "min_documents": self.min_documents,
            "dimensions": {
                dimension: {
                    "documents_without_value": self.missing[dimension],
                    "groups": {
                        g.name: {
                            "documents": g.documents,
                            "categories": {n: _scores(r) for n, r in g.results.items()},
                        }
                        for g in groups
                    },
                }
                for dimension, groups in self.groups.items()
            },
            "gaps": [g.to_dict() for g in self.gaps],
        }


def _scores(result: CategoryResult) -> dict[str, float | int | None]:
    # No macro averages: a group keeps document counts, not per-label counts.
    return {k: v for k, v in result.flat().items() if not k.startswith("macro_")}


def subgroups(
    categories: Mapping[str, CategoryResult],
    doc_ids: Sequence[str],
    subjects: Mapping[str, Subject],
    *,
    samples: int,
    seed: int,
    level: float,
    period: Period = "year",
    min_documents: int = 10,
) -> Subgroups | None:
    """Per-group scores of ``categories`` (whose count rows follow ``doc_ids``); None where no
    document has anything to group by."""
    groups: dict[str, list[Group]] = {}
    missing: dict[str, int] = {}
    gaps: list[Gap] = []
    for dimension in DIMENSIONS:
        members: dict[str, list[int]] = {}
        for row, doc_id in enumerate(doc_ids):
            subject = subjects.get(doc_id)
            name = None if subject is None else group_of(subject, dimension, period)
            if name is not None:
                members.setdefault(name, []).append(row)
        if not members or not categories:
            continue
        missing[dimension] = len(doc_ids) - sum(len(rows) for rows in members.values())
        built: list[Group] = []
        draws: dict[str, tuple[NDArray[np.int64], NDArray[np.int64]]] = {}
        for name in _ordered(dimension, members):
            rows = np.asarray(members[name], dtype=np.int64)
            indices = resample_indices(len(rows), samples, _seed(seed, dimension, name))
            draws[name] = (rows, indices)
            results: dict[str, CategoryResult] = {}
            for category, whole in categories.items():
                part = CategoryResult(
                    name=category, description=whole.description, counts=whole.counts[rows], labels={}
                )
                part.ci = confidence_intervals(part.counts, indices, level)
                results[category] = part
            built.append(Group(dimension=dimension, name=name, documents=len(rows), results=results))
        groups[dimension] = built
        for category, whole in categories.items():
            gap = _largest_gap(dimension, category, whole, built, draws, min_documents, level)
            if gap is not None:
                gaps.append(gap)
    if not groups:
        return None
    return Subgroups(groups=groups, missing=missing, gaps=gaps, min_documents=min_documents, period=period)


def _ordered(dimension: str, members: Mapping[str, list[int]]) -> list[str]:
    if dimension == "age":
        return [name for name, _ in AGE_BANDS if name in members]
    return sorted(members)


def _seed(seed: int, dimension: str, name: str) -> int:
    digest = hashlib.blake2b(f"{seed}\x00{dimension}\x00{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def _largest_gap(
    dimension: str,
    category: str,
    whole: CategoryResult,
    groups: list[Group],
    draws: Mapping[str, tuple[NDArray[np.int64], NDArray[np.int64]]],
    min_documents: int,
    level: float,
) -> Gap | None:
    scored = [
        (g.name, f)
        for g in groups
        if g.documents >= min_documents and (f := g.results[category].micro.fscore) is not None
    ]
    if len(scored) < 2:
        return None
    # The largest difference of any pair is the highest F1 against the lowest; ties go to the
    # first group in report order.
    low = min(range(len(scored)), key=lambda i: scored[i][1])
    high = max(range(len(scored)), key=lambda i: scored[i][1])
    if low == high:
        low, high = 0, 1
    (low_name, low_f), (high_name, high_f) = scored[low], scored[high]
    low_rows, low_indices = draws[low_name]
    high_rows, high_indices = draws[high_name]
    deltas = resampled(whole.counts[high_rows], high_indices) - resampled(whole.counts[low_rows], low_indices)
    defined = deltas[~np.isnan(deltas)]
    return Gap(
        dimension=dimension,
        category=category,
        low=low_name,
        high=high_name,
        low_f=low_f,
        high_f=high_f,
        interval=percentile_interval(defined, level),
        samples=int(defined.size),
    )


def read_gold(
    path: Path, *, format: str | None = None, text_dir: Path | None = None
) -> tuple[Corpus, dict[str, Subject]]:
    """Read a gold corpus (format detected unless given) and, from JSONL and FHIR, the subject
    of each note by id; other formats say nothing about subjects."""
    chosen = format or (detect_format(path) if path.exists() else None)
    if chosen == "jsonl":
        return read_jsonl_with_subjects(path, text_dir=text_dir)
    if chosen == "fhir":
        return read_fhir_with_subjects(path, text_dir=text_dir)
    return read_corpus(path, format=format, text_dir=text_dir), {}
