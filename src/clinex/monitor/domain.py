"""Can a classifier tell CUR notes from REF notes? A cross-validated AUC with a permutation threshold.

Notes become TF-IDF vectors of words and word pairs (letters only: dates and numbers differ in
any two samples; vocabulary and IDF from both sides, without labels); a logistic regression is scored by 5-fold cross-validated ROC AUC (scikit-
learn). The same is done with REF/CUR labels shuffled (``permutations`` times, 20 by default):
the largest AUC reached by chance is the threshold the real AUC must pass, beside the fixed
effect thresholds. The p-value is the Mann–Whitney test of the out-of-fold scores (AUC is its
U statistic over n₁n₂). An AUC near 0.5 means the notes look alike; near 1, CUR is another kind
of note (a new template, site or note type).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from clinex.monitor.signals import Signal, Thresholds

#: AUC at which the domain classifier warns and alarms (and the permutation maximum must be passed).
AUC = Thresholds(warn=0.7, alarm=0.8)
_TOKENS = r"(?u)\b[a-zA-Z][a-zA-Z]+\b"


def _out_of_fold(features: Any, labels: NDArray[np.int64], seed: int) -> NDArray[np.float64]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    scores = np.zeros(len(labels))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    for train, test in folds.split(np.zeros(len(labels)), labels):
        model = LogisticRegression(C=1.0, solver="liblinear").fit(features[train], labels[train])
        scores[test] = model.decision_function(features[test])
    return scores


def _auc(scores: NDArray[np.float64], labels: NDArray[np.int64]) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


def domain_signal(
    ref_ids: Sequence[str],
    ref_texts: Sequence[str],
    cur_ids: Sequence[str],
    cur_texts: Sequence[str],
    *,
    permutations: int = 20,
    max_notes: int = 500,
    seed: int = 0,
) -> Signal:
    description = "a classifier telling CUR notes from REF notes (cross-validated ROC AUC)"
    if min(len(ref_texts), len(cur_texts)) < 10:
        return Signal.untested(
            "domain_classifier",
            "input",
            description,
            "ROC AUC",
            "fewer than 10 notes on one side: not tested",
        )
    from scipy.stats import mannwhitneyu
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(seed)
    ref_pick = sorted(rng.permutation(len(ref_texts))[:max_notes])
    cur_pick = sorted(rng.permutation(len(cur_texts))[:max_notes])
    texts = [ref_texts[i] for i in ref_pick] + [cur_texts[i] for i in cur_pick]
    ids = [ref_ids[i] for i in ref_pick] + [cur_ids[i] for i in cur_pick]
    labels = np.array([0] * len(ref_pick) + [1] * len(cur_pick))
    # The vocabulary and IDF are learnt from both sides without their labels (unsupervised, so
    # no label leaks into the folds), once for the real split and every permutation.
    vectorizer = TfidfVectorizer(token_pattern=_TOKENS, ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    features = vectorizer.fit_transform(texts)
    scores = _out_of_fold(features, labels, seed)
    auc = _auc(scores, labels)
    null = [
        _auc(_out_of_fold(features, shuffled, seed), shuffled)
        for shuffled in _shuffles(labels, permutations, rng)
    ]
    chance = max(null) if null else 0.5
    p_value = float(mannwhitneyu(scores[labels == 1], scores[labels == 0], alternative="greater").pvalue)
    # The words that tell CUR from REF, from one fit on everything.
    model = LogisticRegression(C=1.0, solver="liblinear").fit(features, labels)
    names = vectorizer.get_feature_names_out()
    weights = model.coef_[0]
    order = np.argsort(weights)
    cur_terms = [str(names[i]) for i in order[::-1][:8]]
    ref_terms = [str(names[i]) for i in order[:8]]
    most_cur_like = sorted(
        ((ids[i], float(scores[i])) for i in range(len(ids)) if labels[i] == 1), key=lambda pair: -pair[1]
    )[:5]
    thresholds = chance_thresholds(chance)
    return Signal(
        name="domain_classifier",
        group="input",
        description=description,
        statistic="ROC AUC",
        effect=auc,
        p_value=p_value,
        thresholds=thresholds,
        ref={"notes": len(ref_pick)},
        cur={"notes": len(cur_pick)},
        detail=(
            f"chance level from {len(null)} label permutations: max AUC {chance:.3f}; "
            f"terms of CUR: {', '.join(cur_terms)}; terms of REF: {', '.join(ref_terms)}"
        ),
        examples=[{"id": i, "score": round(s, 3), "why": "most CUR-like CUR note"} for i, s in most_cur_like],
    )


def chance_thresholds(chance: float) -> Thresholds:
    """The AUC thresholds once chance is known: the fixed ones, raised to the best AUC that
    shuffled labels reached (an AUC chance can reach is no evidence of drift)."""
    return Thresholds(warn=max(AUC.warn, chance), alarm=max(AUC.alarm, chance))


def _shuffles(labels: NDArray[np.int64], count: int, rng: np.random.Generator) -> list[NDArray[np.int64]]:
    return [rng.permutation(labels) for _ in range(count)]
