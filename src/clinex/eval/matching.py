"""One-to-one matching of gold and predicted entities within a document.

Match modes decide when two spans agree: ``strict`` (same start and end), ``lenient`` (the
spans overlap) and ``normalised`` (same text after case, accent, punctuation and whitespace
folding, wherever it is). A gold entity without a span (document-level codes) agrees with any
prediction. Among agreeing pairs with equal keys, a maximum one-to-one matching is taken, so a
duplicated prediction counts once as a true positive and then as a false positive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

from clinex.core.errors import ConfigError
from clinex.core.types import Entity
from clinex.eval.categories import Category
from clinex.eval.codes import normal_text
from clinex.eval.scores import PRFScore

MatchMode = Literal["strict", "lenient", "normalised"]
MATCH_MODES: tuple[str, ...] = get_args(MatchMode)


def check_mode(mode: str) -> MatchMode:
    if mode not in MATCH_MODES:
        raise ConfigError(f"unknown match mode {mode!r}", hint=f"choose one of: {', '.join(MATCH_MODES)}")
    return mode  # type: ignore[return-value]


def overlap(gold: Entity, pred: Entity) -> int:
    """Characters shared by two spans (0 where either has none)."""
    if gold.start is None or gold.end is None or pred.start is None or pred.end is None:
        return 0
    return max(0, min(gold.end, pred.end) - max(gold.start, pred.start))


def spans_agree(gold: Entity, pred: Entity, mode: MatchMode) -> bool:
    if not gold.grounded:
        return True
    if mode == "normalised":
        return normal_text(gold.text) == normal_text(pred.text)
    if not pred.grounded:
        return False
    if mode == "strict":
        return (gold.start, gold.end) == (pred.start, pred.end)
    # An empty span cannot overlap anything; it agrees only with the same empty span.
    return overlap(gold, pred) > 0 or (gold.start, gold.end) == (pred.start, pred.end)


@dataclass(slots=True)
class DocMatch:
    """The entities of one category in one document and which of them were paired."""

    gold: list[Entity]
    pred: list[Entity]
    gold_keys: list[str]
    pred_keys: list[str]
    pairs: list[tuple[int, int]] = field(default_factory=list)

    @property
    def unmatched_gold(self) -> list[int]:
        paired = {g for g, _ in self.pairs}
        return [i for i in range(len(self.gold)) if i not in paired]

    @property
    def unmatched_pred(self) -> list[int]:
        paired = {p for _, p in self.pairs}
        return [i for i in range(len(self.pred)) if i not in paired]

    def score(self) -> PRFScore:
        return PRFScore(len(self.pairs), len(self.pred) - len(self.pairs), len(self.gold) - len(self.pairs))

    def label_scores(self) -> dict[str, PRFScore]:
        """Counts per key (a code, a type ...): the labels a macro average runs over."""
        labels: dict[str, PRFScore] = {}
        for g, _ in self.pairs:
            labels.setdefault(self.gold_keys[g], PRFScore()).tp += 1
        for g in self.unmatched_gold:
            labels.setdefault(self.gold_keys[g], PRFScore()).fn += 1
        for p in self.unmatched_pred:
            labels.setdefault(self.pred_keys[p], PRFScore()).fp += 1
        return labels


def match(gold: Sequence[Entity], pred: Sequence[Entity], category: Category, mode: MatchMode) -> DocMatch:
    """Pair the category's gold and predicted entities of one document, one to one."""
    gold_in = [(e, k) for e in gold if e.type in category.types and (k := category.key(e)) is not None]
    pred_in = [(e, k) for e in pred if e.type in category.types and (k := category.key(e)) is not None]
    result = DocMatch(
        [e for e, _ in gold_in], [e for e, _ in pred_in], [k for _, k in gold_in], [k for _, k in pred_in]
    )
    # Candidates best-first (largest overlap, then position) so ties resolve the same way every run.
    candidates: list[list[int]] = []
    for g_entity, g_key in gold_in:
        options = [
            p
            for p, (p_entity, p_key) in enumerate(pred_in)
            if p_key == g_key and spans_agree(g_entity, p_entity, mode)
        ]
        options.sort(key=lambda p: (-overlap(g_entity, pred_in[p][0]), p))
        candidates.append(options)
    owner: dict[int, int] = {}
    for g in range(len(gold_in)):
        _augment(g, candidates, owner, set())
    result.pairs = sorted((g, p) for p, g in owner.items())
    return result


def _augment(g: int, candidates: list[list[int]], owner: dict[int, int], seen: set[int]) -> bool:
    """Kuhn's augmenting path: give gold ``g`` a prediction, re-seating earlier owners if needed."""
    for p in candidates[g]:
        if p in seen:
            continue
        seen.add(p)
        if p not in owner or _augment(owner[p], candidates, owner, seen):
            owner[p] = g
            return True
    return False
