"""Agreement between two reviewers of the same documents: span F1 (exact and overlap), Cohen's
κ per assertion flag, per document and pooled, and their disagreements side by side.

What is compared (see :mod:`clinex.review.views`): on each document, the facts both reviewers
decided, plus the facts either of them added. Reviewers share one version chain per fact, so a
fact one of them never touched is not a judgement of theirs and is left out; an addition is
always a judgement (the other reviewer did not add it, or added it at another fact id).
Each reviewer's facts are those their last decisions kept (a reject drops the fact).

- **Exact**: the same type and the same span (``start``, ``end``); an ungrounded fact (no span)
  matches one of the same type and the same text, case aside.
- **Overlap**: the same type and overlapping spans, matched one to one: first a fact with itself
  (the same fact id on both sides), then exact matches, then by the longest overlap.
- **F1** = 2·matched / (A's facts + B's facts), the same whichever reviewer is the reference;
  None where neither kept a fact.
- **κ** per flag over the overlap-matched pairs: (pₒ − pₑ) / (1 − pₑ). It is undefined (None,
  with ``undefined`` saying why) without matched pairs, or when chance agreement pₑ is 1: both
  reviewers gave every pair the same value, so there is no variation for κ to measure (the raw
  agreement ``observed`` is then 1).
- **Overall** pools the counts and κ tables of every document both reviewed (micro average).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clinex.core.types import ASSERTION_FLAGS
from clinex.review.model import DecisionRecord
from clinex.review.views import ReviewerView, reviewer_view

#: The fields of a fact compared between reviewers (a code's display is not: only system + code).
COMPARED: tuple[str, ...] = ("type", "start", "end", "text", "code", "assertion", "attributes")

Item = tuple[str, Mapping[str, Any]]
#: (A has the flag, B has it) → its cell of a κ table: both, only A, only B, neither.
_CELLS = {(True, True): 0, (True, False): 1, (False, True): 2, (False, False): 3}


@dataclass(slots=True)
class _Tally:
    a: int = 0
    b: int = 0
    exact: int = 0
    overlap: int = 0
    compared: int = 0
    tables: dict[str, list[int]] = field(default_factory=lambda: {f: [0, 0, 0, 0] for f in ASSERTION_FLAGS})

    def add(self, other: _Tally) -> None:
        self.a += other.a
        self.b += other.b
        self.exact += other.exact
        self.overlap += other.overlap
        self.compared += other.compared
        for flag, table in other.tables.items():
            self.tables[flag] = [x + y for x, y in zip(self.tables[flag], table, strict=True)]

    def summary(self) -> dict[str, Any]:
        total = self.a + self.b
        return {
            "counts": {
                "a": self.a,
                "b": self.b,
                "exact": self.exact,
                "overlap": self.overlap,
                "compared_facts": self.compared,
            },
            "f1": {
                "exact": round(2 * self.exact / total, 4) if total else None,
                "overlap": round(2 * self.overlap / total, 4) if total else None,
            },
            "kappa": {flag: kappa(*table) for flag, table in self.tables.items()},
        }


def agreement(
    decisions_by_document: Mapping[str, Sequence[DecisionRecord]], reviewer_a: str, reviewer_b: str
) -> dict[str, Any]:
    """Agreement of ``reviewer_a`` and ``reviewer_b`` over the documents (id → its decisions),
    as a JSON-ready dict::

        {"reviewers": [a, b],
         "documents": {id: {"counts", "f1", "kappa", "disagreements"}},
         "overall": {"counts", "f1", "kappa", "documents": n},
         "skipped": {id: why},          # documents not both reviewed
         "disagreements": [...]}        # every document's, each with its "document"

    ``counts``: ``a``/``b`` the facts each kept among those compared, ``exact``/``overlap`` the
    matched pairs, ``compared_facts`` the facts compared. ``kappa``: per flag ``{"kappa",
    "observed", "expected", "n", "table": {"both", "a_only", "b_only", "neither"}, "undefined"}``.
    A disagreement: ``{"document", "a_fact", "b_fact", "a", "b", "a_action", "b_action",
    "differs"}`` — the fact ids and entities on each side (None where that side has none),
    each side's last action on the fact, and the fields that differ (``"presence"`` when only
    one side kept a fact).
    """
    documents: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    everything: list[dict[str, Any]] = []
    overall = _Tally()
    for document in sorted(decisions_by_document):
        records = decisions_by_document[document]
        view_a = reviewer_view(records, reviewer_a, document=document)
        view_b = reviewer_view(records, reviewer_b, document=document)
        missing = [v.reviewer for v in (view_a, view_b) if not v.actions]
        if missing:
            skipped[document] = f"not reviewed by {' and '.join(missing)}"
            continue
        tally, disagreements = _compare(view_a, view_b)
        overall.add(tally)
        documents[document] = tally.summary() | {"disagreements": disagreements}
        everything.extend(disagreements)
    return {
        "reviewers": [reviewer_a, reviewer_b],
        "documents": documents,
        "overall": overall.summary() | {"documents": len(documents)},
        "skipped": skipped,
        "disagreements": everything,
    }


def kappa(both: int, a_only: int, b_only: int, neither: int) -> dict[str, Any]:
    """Cohen's κ of one flag from its 2×2 table (A set and B set, only A, only B, neither)."""
    n = both + a_only + b_only + neither
    table = {"both": both, "a_only": a_only, "b_only": b_only, "neither": neither}
    if n == 0:
        return {
            "kappa": None,
            "observed": None,
            "expected": None,
            "n": 0,
            "table": table,
            "undefined": "no matched pairs to compare",
        }
    observed = (both + neither) / n
    a_set, b_set = (both + a_only) / n, (both + b_only) / n
    expected = a_set * b_set + (1 - a_set) * (1 - b_set)
    result: dict[str, Any] = {
        "observed": round(observed, 4),
        "expected": round(expected, 4),
        "n": n,
        "table": table,
    }
    if expected >= 1.0:
        value = "set" if a_set else "not set"
        why = f"both reviewers have the flag {value} on every pair: chance agreement is 1, so κ is undefined"
        result |= {"kappa": None, "undefined": why}
    else:
        result |= {"kappa": round((observed - expected) / (1 - expected), 4), "undefined": None}
    return result


def _compare(view_a: ReviewerView, view_b: ReviewerView) -> tuple[_Tally, list[dict[str, Any]]]:
    compared = (view_a.decided & view_b.decided) | view_a.added | view_b.added
    side_a = [(f, view_a.facts[f]) for f in sorted(compared) if f in view_a.facts]
    side_b = [(f, view_b.facts[f]) for f in sorted(compared) if f in view_b.facts]
    tally = _Tally(a=len(side_a), b=len(side_b), compared=len(compared))
    tally.exact = sum(
        (Counter(_exact_key(e) for _, e in side_a) & Counter(_exact_key(e) for _, e in side_b)).values()
    )
    pairs = _match(side_a, side_b)
    tally.overlap = len(pairs)
    for (_, a), (_, b) in pairs:
        for flag in ASSERTION_FLAGS:
            tally.tables[flag][_CELLS[_flag(a, flag), _flag(b, flag)]] += 1
    return tally, _disagreements(view_a, view_b, side_a, side_b, pairs)


def _match(side_a: list[Item], side_b: list[Item]) -> list[tuple[Item, Item]]:
    """Overlap matches, one to one: a fact with itself, then exact, then the longest overlap."""
    free_a, free_b = list(side_a), list(side_b)
    pairs: list[tuple[Item, Item]] = []

    def take(a: Item, b: Item) -> None:
        pairs.append((a, b))
        free_a.remove(a)
        free_b.remove(b)

    for a in list(free_a):
        b = next((b for b in free_b if b[0] == a[0] and _overlap(a[1], b[1]) is not None), None)
        if b is not None:
            take(a, b)
    for a in list(free_a):
        b = next((b for b in free_b if _exact_key(b[1]) == _exact_key(a[1])), None)
        if b is not None:
            take(a, b)
    candidates = sorted(
        (
            (-size, i, j)
            for i, a in enumerate(free_a)
            for j, b in enumerate(free_b)
            if (size := _overlap(a[1], b[1])) is not None
        ),
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    late: list[tuple[Item, Item]] = []
    for _, i, j in candidates:
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
            late.append((free_a[i], free_b[j]))
    for a, b in late:
        take(a, b)
    return pairs


def _disagreements(
    view_a: ReviewerView,
    view_b: ReviewerView,
    side_a: list[Item],
    side_b: list[Item],
    pairs: list[tuple[Item, Item]],
) -> list[dict[str, Any]]:
    rows: list[tuple[Item | None, Item | None, list[str]]] = []
    for a, b in pairs:
        differs = [name for name in COMPARED if _value(a[1], name) != _value(b[1], name)]
        if differs:
            rows.append((a, b, differs))
    matched_a = {id(a) for a, _ in pairs}
    matched_b = {id(b) for _, b in pairs}
    left_a = [a for a in side_a if id(a) not in matched_a]
    left_b = [b for b in side_b if id(b) not in matched_b]
    # The same fact kept by both but not matched (a new type, a span moved away): one row.
    for lone in list(left_a):
        same = next((b for b in left_b if b[0] == lone[0]), None)
        if same is not None:
            rows.append((lone, same, [n for n in COMPARED if _value(lone[1], n) != _value(same[1], n)]))
            left_a.remove(lone)
            left_b.remove(same)
    rows.extend((a, None, ["presence"]) for a in left_a)
    rows.extend((None, b, ["presence"]) for b in left_b)
    out = []
    for row_a, row_b, differs in rows:
        fact = (row_a or row_b or ("", {}))[0]
        out.append(
            {
                "document": view_a.document,
                "a_fact": row_a[0] if row_a else None,
                "b_fact": row_b[0] if row_b else None,
                "a": dict(row_a[1]) if row_a else None,
                "b": dict(row_b[1]) if row_b else None,
                "a_action": view_a.actions.get(row_a[0] if row_a else fact),
                "b_action": view_b.actions.get(row_b[0] if row_b else fact),
                "differs": differs,
            }
        )
    return out


def _span(entity: Mapping[str, Any]) -> tuple[int, int] | None:
    start, end = entity.get("start"), entity.get("end")
    return (int(start), int(end)) if start is not None and end is not None else None


def _exact_key(entity: Mapping[str, Any]) -> tuple[Any, ...]:
    span = _span(entity)
    if span is None:
        return (entity.get("type"), None, str(entity.get("text", "")).casefold())
    return (entity.get("type"), *span)


def _overlap(a: Mapping[str, Any], b: Mapping[str, Any]) -> int | None:
    """The characters two facts of one type share (0 for equal empty spans or equal
    ungrounded texts), or None where they do not overlap."""
    if a.get("type") != b.get("type"):
        return None
    span_a, span_b = _span(a), _span(b)
    if span_a is None or span_b is None:
        return 0 if span_a is None and span_b is None and _exact_key(a) == _exact_key(b) else None
    if span_a == span_b:
        return span_a[1] - span_a[0]
    shared = min(span_a[1], span_b[1]) - max(span_a[0], span_b[0])
    return shared if shared > 0 else None


def _flag(entity: Mapping[str, Any], flag: str) -> bool:
    return bool((entity.get("assertion") or {}).get(flag, False))


def _value(entity: Mapping[str, Any], name: str) -> Any:
    value = entity.get(name)
    if name == "assertion":
        return tuple(_flag(entity, flag) for flag in ASSERTION_FLAGS)
    if name == "code":
        return (value.get("system"), value.get("code")) if isinstance(value, Mapping) else None
    if name == "attributes":
        return dict(value or {})
    return value
