"""Fitting a calibrator on labelled predictions, and measuring one on held-out data.

A prediction is labelled correct when strict matching (same span, same type) pairs it with a
gold entity (:func:`clinex.eval.matching.match`); only types the gold annotates are labelled,
so a gold set without tumours says nothing about predicted tumours. Two methods are fitted per
type: isotonic regression and Platt scaling (a logistic fit on the logit of the score), both
scikit-learn. ``method="auto"`` picks, per type, the one with the lower expected calibration
error under cross-fitting by document (each fold's predictions calibrated by curves fitted on
the other folds), so the figure that chooses is never measured on the data it was fitted on.
A type with fewer than :data:`MIN_PREDICTIONS` predictions (or without both correct and wrong
ones) gets no curve of its own and uses the pooled curve fitted on every type together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from clinex.calibration.calibrator import POOLED, Calibrator, Curve
from clinex.core.errors import ConfigError, EvaluationError
from clinex.corpora import Corpus
from clinex.eval.calibration import Calibration, calibration
from clinex.eval.categories import CATEGORIES
from clinex.eval.matching import match

METHODS: tuple[str, ...] = ("auto", "isotonic", "platt")
MIN_PREDICTIONS = 50
FOLDS = 5
_EPS = 1e-4


@dataclass(slots=True)
class Labelled:
    """Raw confidences of one type's predictions, whether each was correct, and its document."""

    scores: list[float] = field(default_factory=list)
    correct: list[bool] = field(default_factory=list)
    docs: list[int] = field(default_factory=list)

    def extend(self, other: Labelled) -> None:
        self.scores += other.scores
        self.correct += other.correct
        self.docs += other.docs

    def arrays(self) -> tuple[NDArray[np.float64], NDArray[np.bool_], NDArray[np.int64]]:
        return (
            np.asarray(self.scores, dtype=np.float64),
            np.asarray(self.correct, dtype=np.bool_),
            np.asarray(self.docs, dtype=np.int64),
        )


def labelled(gold: Corpus, pred: Corpus) -> dict[str, Labelled]:
    """Each predicted entity's raw confidence and correctness, by type, over the documents both
    corpora hold; types without any gold entity are left out. Refuses predictions whose
    confidences were already calibrated (their Document.meta says so)."""
    ids = [d for d in gold.documents if d in pred.documents]
    if not ids:
        raise EvaluationError(
            f"no document of {pred.source} is in {gold.source}",
            hint="give the gold and the predictions of the same notes (same ids)",
        )
    calibrated = [d for d in ids if pred.documents[d].meta.get("calibration")]
    if calibrated:
        raise EvaluationError(
            f"{len(calibrated)} of {len(ids)} predictions in {pred.source} carry calibrated confidences",
            hint="fit on raw scores: run `clinex extract --calibration none` and calibrate that output",
        )
    annotated = {e.type for d in ids for e in gold.entities(d)}
    out: dict[str, Labelled] = {}
    for entity_type in sorted(annotated):
        category = CATEGORIES[f"entities:{entity_type}"]
        found = out.setdefault(entity_type, Labelled())
        for index, doc_id in enumerate(ids):
            m = match(gold.entities(doc_id), pred.entities(doc_id), category, "strict")
            paired = {p for _, p in m.pairs}
            for p, entity in enumerate(m.pred):
                found.scores.append(entity.confidence)
                found.correct.append(p in paired)
                found.docs.append(index)
    return out


def _fit_curve(scores: NDArray[np.float64], correct: NDArray[np.bool_], method: str) -> Curve:
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        model = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
        model.fit(scores, correct.astype(np.float64))
        xs, ys = model.X_thresholds_, model.y_thresholds_
        return Curve(tuple(float(v) for v in xs), tuple(float(v) for v in ys), "isotonic")
    from sklearn.linear_model import LogisticRegression

    logit = _logit(scores).reshape(-1, 1)
    model = LogisticRegression(C=1e4)
    model.fit(logit, correct.astype(np.int64))
    if model.coef_[0][0] <= 0:  # a score that does not rank: the base rate everywhere
        rate = float(correct.mean())
        return Curve((0.0, 1.0), (rate, rate), "platt")
    grid = np.linspace(0.0, 1.0, 101)
    ys = model.predict_proba(_logit(grid).reshape(-1, 1))[:, 1]
    return Curve(tuple(float(v) for v in grid), tuple(float(v) for v in np.maximum.accumulate(ys)), "platt")


def _logit(values: NDArray[np.float64]) -> NDArray[np.float64]:
    clipped = np.clip(values, _EPS, 1 - _EPS)
    return np.log(clipped / (1 - clipped))


def _fittable(correct: NDArray[np.bool_]) -> bool:
    return len(correct) >= MIN_PREDICTIONS and 0 < int(correct.sum()) < len(correct)


def _cross_fitted(
    scores: NDArray[np.float64], correct: NDArray[np.bool_], docs: NDArray[np.int64], method: str
) -> NDArray[np.float64] | None:
    """Each prediction calibrated by a curve fitted on the other documents' folds."""
    unique = np.unique(docs)
    if len(unique) < 2:
        return None
    fold_of = {int(d): i % FOLDS for i, d in enumerate(np.random.default_rng(0).permutation(unique))}
    folds = np.array([fold_of[int(d)] for d in docs])
    out = np.empty_like(scores)
    for fold in range(min(FOLDS, len(unique))):
        test, train = folds == fold, folds != fold
        if not test.any():
            continue
        if not (0 < int(correct[train].sum()) < int(train.sum())):
            return None
        out[test] = _fit_curve(scores[train], correct[train], method)(scores[test])
    return out


def _ece(scores: NDArray[np.float64], correct: NDArray[np.bool_]) -> float | None:
    return calibration(scores.tolist(), correct.tolist()).ece


@dataclass(frozen=True, slots=True)
class TypeFit:
    """How one type (or the pooled set) was fitted: counts, ECE raw and cross-fitted, method."""

    name: str
    count: int
    correct: int
    ece_raw: float | None
    ece_cross_fitted: dict[str, float | None]
    method: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "correct": self.correct,
            "precision": self.correct / self.count if self.count else None,
            "ece_raw": self.ece_raw,
            "ece_cross_fitted": self.ece_cross_fitted,
            "method": self.method,
        }


def fit(
    gold: Corpus,
    pred: Corpus,
    *,
    extractor: str | None = None,
    model_checksum: str | None = None,
    method: str = "auto",
) -> tuple[Calibrator, list[TypeFit]]:
    """A calibrator for the extractor that wrote ``pred``, fitted against ``gold``.

    The extractor and model checksum default to those in the predictions' ``Document.meta``
    (FHIR output and JSONL with meta carry them); one must be known.
    """
    if method not in METHODS:
        raise ConfigError(
            f"unknown calibration method {method!r}", hint=f"choose one of: {', '.join(METHODS)}"
        )
    data = labelled(gold, pred)
    extractor, model_checksum = _identity(pred, extractor, model_checksum)
    pooled = Labelled()
    for found in data.values():
        pooled.extend(found)
    fits: list[TypeFit] = []
    curves: dict[str, Curve] = {}
    for name, found in [*sorted(data.items()), (POOLED, pooled)]:
        scores, correct, docs = found.arrays()
        if not _fittable(correct):
            fits.append(TypeFit(name, len(scores), int(correct.sum()), _ece(scores, correct), {}, None))
            continue
        crossed: dict[str, float | None] = {}
        for candidate in ("isotonic", "platt"):
            calibrated = _cross_fitted(scores, correct, docs, candidate)
            crossed[candidate] = None if calibrated is None else _ece(calibrated, correct)
        chosen = method if method != "auto" else _best(crossed)
        curves[name] = _fit_curve(scores, correct, chosen)
        fits.append(TypeFit(name, len(scores), int(correct.sum()), _ece(scores, correct), crossed, chosen))
    if not curves:
        raise EvaluationError(
            f"too few predictions to calibrate ({len(pooled.scores)}, at least {MIN_PREDICTIONS} "
            "with both correct and wrong ones)",
            hint="fit on more labelled notes",
        )
    fitted = {
        "gold": gold.source,
        "predictions": pred.source,
        "documents": len([d for d in gold.documents if d in pred.documents]),
        "method": method,
        "types": {f.name: f.to_dict() for f in fits},
    }
    return Calibrator(extractor=extractor, model_checksum=model_checksum, curves=curves, fitted=fitted), fits


def _best(crossed: Mapping[str, float | None]) -> str:
    defined = {k: v for k, v in crossed.items() if v is not None}
    return min(defined, key=lambda k: defined[k]) if defined else "isotonic"


def _identity(pred: Corpus, extractor: str | None, checksum: str | None) -> tuple[str, str | None]:
    metas = [doc.meta for doc in pred.documents.values() if doc.meta.get("extractor")]
    if extractor is None and metas:
        names = {str(m["extractor"]) for m in metas}
        if len(names) > 1:
            raise EvaluationError(
                f"{pred.source} mixes extractors {sorted(names)}", hint="calibrate one extractor's output"
            )
        extractor = names.pop()
        checksums = {(m.get("model") or {}).get("checksum") for m in metas}
        checksum = checksum or (checksums.pop() if len(checksums) == 1 else None)
    if extractor is None:
        raise EvaluationError(
            f"{pred.source} does not say which extractor wrote it",
            hint="give --extractor NAME (e.g. encoder.v1), or calibrate FHIR/JSONL output that carries meta",
        )
    return extractor, checksum


@dataclass(frozen=True, slots=True)
class Check:
    """A calibrator measured on labelled predictions it was not fitted on, per type."""

    before: dict[str, Calibration]
    after: dict[str, Calibration]

    def to_dict(self) -> dict[str, Any]:
        return {
            name: {
                "count": self.before[name].count,
                "ece_before": self.before[name].ece,
                "ece_after": self.after[name].ece,
                "reliability_before": self.before[name].to_dict()["bins"],
                "reliability_after": self.after[name].to_dict()["bins"],
            }
            for name in self.before
        }


def check(calibrator: Calibrator, gold: Corpus, pred: Corpus) -> Check:
    """ECE and reliability bins per type (and over all types, ``*``) before and after applying
    ``calibrator`` to the raw confidences of ``pred``."""
    data = labelled(gold, pred)
    before: dict[str, Calibration] = {}
    after: dict[str, Calibration] = {}
    raw_all: list[float] = []
    calibrated_all: list[float] = []
    correct_all: list[bool] = []
    for name, found in sorted(data.items()):
        scores, correct, _ = found.arrays()
        calibrated = calibrator.scores(name, scores)
        before[name] = calibration(scores.tolist(), correct.tolist())
        after[name] = calibration(calibrated.tolist(), correct.tolist())
        raw_all += scores.tolist()
        calibrated_all += calibrated.tolist()
        correct_all += correct.tolist()
    before[POOLED] = calibration(raw_all, correct_all)
    after[POOLED] = calibration(calibrated_all, correct_all)
    return Check(before, after)
