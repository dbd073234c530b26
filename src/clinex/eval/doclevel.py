"""Document-level code sets (CodiEsp style): micro P/R/F1 over sets of codes, and MAP.

A document's code set holds the codes of entities asserted present for the patient: negated,
family and hypothetical mentions are not coded (as in CodiEsp), on either side. Predicted codes
are ranked by the highest confidence any entity gives them (ties keep their first appearance),
which is what mean average precision needs.
"""

from __future__ import annotations

from collections.abc import Sequence

from clinex.core.types import Entity
from clinex.eval.categories import CATEGORIES, Category
from clinex.eval.scores import PRFScore

#: Code-set scores and the entity category whose keys make up the set.
CODE_SETS: dict[str, Category] = {
    "codes:diagnoses": CATEGORIES["diagnoses"],
    "codes:diagnoses:3char": CATEGORIES["diagnoses:3char"],
    "codes:procedures": CATEGORIES["procedures"],
}


def present(entity: Entity) -> bool:
    """Whether a mention asserts the concept for the patient (and so gets a document code)."""
    flags = entity.assertion
    return not (flags.negated or flags.family or flags.hypothetical)


def code_set(entities: Sequence[Entity], category: Category) -> set[str]:
    return {
        k for e in entities if e.type in category.types and present(e) and (k := category.key(e)) is not None
    }


def ranked_codes(entities: Sequence[Entity], category: Category) -> list[str]:
    """Distinct keys, most confident first."""
    best: dict[str, float] = {}
    for entity in entities:
        if entity.type in category.types and present(entity) and (key := category.key(entity)) is not None:
            best[key] = max(best.get(key, 0.0), entity.confidence)
    return sorted(best, key=lambda k: -best[k])  # sorted() is stable: ties stay in order


def set_score(gold: set[str], pred: set[str]) -> PRFScore:
    return PRFScore(tp=len(gold & pred), fp=len(pred - gold), fn=len(gold - pred))


def average_precision(ranked: Sequence[str], gold: set[str]) -> float | None:
    """Mean of precision@k over the ranks k of relevant codes, divided by all gold codes.

    None where the document has no gold code (it does not enter MAP).
    """
    if not gold:
        return None
    hits = 0
    total = 0.0
    for rank, code in enumerate(ranked, start=1):
        if code in gold:
            hits += 1
            total += hits / rank
    return total / len(gold)
