"""Telegraphic notes (progress notes, radiology reports, clinic letters): precision and recall per type.

    .venv/bin/python benchmarks/telegraphic.py [--gold tests/fixtures/telegraphic/notes.jsonl]
        [--extractors rules encoder] [--errors]

The gold is clinex's own hand-written notes (``tests/fixtures/telegraphic/``: terse text,
abbreviations, "r/o X", "X pending", receptor status; written for this test, not copied). Spans
match leniently (overlap, same type, one-to-one); ``wrong type`` counts predictions that overlap
a gold entity of another type ("HTN" as a tumour). On the matched entities: ``assertion`` is the
share whose five flags all equal the gold's, and ``refuted`` counts gold mentions that are not
negated but came out negated (the unsafe error: "No CP. hx of HTN" making HTN refuted).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import clinex
from clinex.core.types import ASSERTION_FLAGS, Document, Entity
from clinex.corpora import read_jsonl
from clinex.eval.scores import PRFScore

DEFAULT_GOLD = Path("tests/fixtures/telegraphic/notes.jsonl")
TYPES = ("condition", "medication", "lab", "procedure")


def _overlaps(a: Entity, b: Entity) -> bool:
    return a.start is not None and b.start is not None and a.start < (b.end or 0) and b.start < (a.end or 0)


def score(gold: list[Document], predicted: list[Document], errors: bool) -> dict[str, object]:
    """Per-type lenient P/R/F1, wrong-type and assertion counts of ``predicted`` against ``gold``."""
    per_type = {t: PRFScore() for t in TYPES}
    wrong_type = 0
    same_flags = matched = refuted = 0
    for g, p in zip(gold, predicted, strict=True):
        free = [e for e in p.entities if e.type in TYPES]
        for entity in g.entities:
            hit = next((e for e in free if e.type == entity.type and _overlaps(e, entity)), None)
            if hit is None:
                per_type[entity.type].fn += 1
                if errors:
                    print(f"  {g.id}: missed {entity.type} {entity.text!r}")
                continue
            free.remove(hit)
            per_type[entity.type].tp += 1
            matched += 1
            flags = [getattr(hit.assertion, f) == getattr(entity.assertion, f) for f in ASSERTION_FLAGS]
            same_flags += all(flags)
            refuted += hit.assertion.negated and not entity.assertion.negated
            if errors and not all(flags):
                got = [f for f in ASSERTION_FLAGS if getattr(hit.assertion, f)]
                want = [f for f in ASSERTION_FLAGS if getattr(entity.assertion, f)]
                print(f"  {g.id}: {entity.text!r} flags {got}, gold {want}")
        for e in free:
            per_type[e.type].fp += 1
            wrong_type += any(_overlaps(e, o) and o.type != e.type for o in g.entities)
            if errors:
                print(f"  {g.id}: spurious {e.type} {e.text!r}")
    total = sum(per_type.values(), PRFScore())
    return {
        "types": per_type,
        "all": total,
        "wrong_type": wrong_type,
        "assertion": same_flags / matched if matched else None,
        "refuted": refuted,
    }


def _cell(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "  - "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--extractors", nargs="+", default=["rules", "encoder"])
    parser.add_argument(
        "--errors", action="store_true", help="print every miss, spurious span and flag error"
    )
    args = parser.parse_args()
    gold = list(read_jsonl(args.gold).documents.values())
    counts: Counter[str] = Counter(e.type for d in gold for e in d.entities)
    print(f"{args.gold}: {len(gold)} notes, gold " + ", ".join(f"{t} {counts[t]}" for t in TYPES))
    header = " ".join(f"{t[:4]} P/R".rjust(11) for t in TYPES)
    print(f"{'extractor':9} {header}   all P/R/F1      wrong type  assertion  refuted")
    for name in args.extractors:
        if args.errors:
            print(f"{name}:")
        predicted = [clinex.extract(d.text, extractor=name, id=d.id) for d in gold]
        result = score(gold, predicted, args.errors)
        types = result["types"]
        total = result["all"]
        assert isinstance(types, dict) and isinstance(total, PRFScore)
        cells = " ".join(f"{_cell(s.precision)}/{_cell(s.recall)}".rjust(11) for s in types.values())
        overall = f"{_cell(total.precision)}/{_cell(total.recall)}/{_cell(total.fscore)}"
        assertion = result["assertion"]
        print(
            f"{name:9} {cells}   {overall:15} {result['wrong_type']:>10}  "
            f"{_cell(assertion if isinstance(assertion, float) else None):>9}  {result['refuted']:>7}"
        )


if __name__ == "__main__":
    main()
