"""Recall on short real sentences: how many NegEx rows' conditions each extractor finds at all.

    .venv/bin/python benchmarks/negex_recall.py [--negex ../shared/data/negex/dev.tsv]
        [--extractors encoder rules] [--limit N] [--threads 2] [--misses N]

Each NegEx row is one sentence with one annotated condition. A row is *found* when the full
pipeline (``clinex.extract``: extractor, assertion, coding) returns a condition whose span
overlaps the condition's span in the sentence (``any type``: an entity of any type does).
Negation F1 is scored on the found rows only, with the flags of the found entity that overlaps
the condition most. Rows whose condition cannot be located in the sentence are not counted.
NegEx dev is an evaluation set: never fit word lists to its conditions.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Sequence
from pathlib import Path

import clinex
from clinex.core.types import Entity
from clinex.corpora.negex import NegExRow, read_negex_rows
from clinex.eval.negex_eval import DEFAULT_NEGEX
from clinex.eval.scores import PRFScore


def _overlap(entity: Entity, span: tuple[int, int]) -> int:
    if entity.start is None or entity.end is None:
        return 0
    return max(0, min(entity.end, span[1]) - max(entity.start, span[0]))


def _best(entities: Sequence[Entity], span: tuple[int, int], types: set[str] | None) -> Entity | None:
    scored = [(_overlap(e, span), e) for e in entities if types is None or e.type in types]
    scored = [(o, e) for o, e in scored if o > 0]
    return max(scored, key=lambda pair: pair[0])[1] if scored else None


def measure(name: str, rows: Sequence[NegExRow], misses: int) -> dict[str, object]:
    """Rows found (as a condition, and as any type) and negation P/R/F1 on the rows found."""
    located = [(row, row.span) for row in rows if row.span is not None]
    started = time.perf_counter()
    documents = clinex.extract_many((row.sentence for row, _ in located), extractor=name)
    found = any_type = 0
    negation = PRFScore()
    missed: list[str] = []
    for (row, span), document in zip(located, documents, strict=True):
        assert span is not None
        best = _best(document.entities, span, {"condition"})
        any_type += _best(document.entities, span, None) is not None
        if best is None:
            missed.append(f"{row.id}: {row.sentence[span[0] : span[1]]!r}")
            continue
        found += 1
        negation.count(row.negation == "Negated", best.assertion.negated)
    seconds = time.perf_counter() - started
    if misses:
        print(f"  {name}: some rows not found (id: condition)")
        for line in random.Random(0).sample(missed, min(misses, len(missed))):
            print(f"    {line}")
    return {
        "rows": len(located),
        "found": found / len(located) if located else None,
        "any": any_type / len(located) if located else None,
        "negation": negation,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--negex", type=Path, default=DEFAULT_NEGEX)
    parser.add_argument("--extractors", nargs="+", default=["encoder", "rules"])
    parser.add_argument("--limit", type=int, default=None, help="first N rows only")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--misses", type=int, default=0, help="print N rows not found (a sample)")
    args = parser.parse_args()
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        pass
    rows = read_negex_rows(args.negex)[: args.limit]
    print(f"NegEx sentences: {args.negex} ({len(rows)} rows)")
    print(
        f"{'extractor':10} {'rows':>5} {'found':>7} {'any type':>9} {'neg P':>7} {'neg R':>7} {'neg F1':>7} {'s':>6}"
    )
    for name in args.extractors:
        result = measure(name, rows, args.misses)
        negation = result["negation"]
        assert isinstance(negation, PRFScore)
        cells = [negation.precision, negation.recall, negation.fscore]
        print(
            f"{name:10} {result['rows']:>5} {result['found']:>7.3f} {result['any']:>9.3f} "
            + " ".join(f"{c if c is not None else float('nan'):>7.3f}" for c in cells)
            + f" {result['seconds']:>6.0f}"
        )


if __name__ == "__main__":
    main()
