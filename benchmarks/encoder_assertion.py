"""Assertion on the NegEx/ConText sentences: the encoder's learned head vs ConText rules vs both.

    .venv/bin/python benchmarks/encoder_assertion.py [--negex ../shared/data/negex/dev.tsv] [--model DIR]

Prints per-flag F1 of each method and the machine; the issue asks for negation F1 >= 0.95 and
historical F1 >= 0.80.
"""

from __future__ import annotations

import argparse
import platform
from collections.abc import Sequence
from pathlib import Path

import torch

from clinex.core.types import Entity
from clinex.eval.negex_eval import DEFAULT_NEGEX, NEGEX_FLAGS, evaluate_negex
from clinex.extractors.encoder import EncoderExtractor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--negex", type=Path, default=DEFAULT_NEGEX)
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from clinex.assertion.context import assert_entities

    extractor = EncoderExtractor(model=args.model, coding=False)

    def both(text: str, entities: Sequence[Entity]) -> list[Entity]:
        # ConText keeps flags already set: the union of head and rules.
        return assert_entities(text, extractor.assert_entities(text, entities))

    methods = {"head": extractor.assert_entities, "context": assert_entities, "both": both}
    print(
        f"NegEx/ConText sentences: {args.negex}  ({platform.processor() or platform.machine()}, {args.threads} threads)"
    )
    print(f"{'method':8} " + " ".join(f"{f + ' F1':>16}" for f in NEGEX_FLAGS))
    for name, method in methods.items():
        scores = evaluate_negex(method, args.negex)
        cells = " ".join(
            f"{(s.fscore if s.fscore is not None else float('nan')):16.3f}" for s in scores.flags.values()
        )
        print(f"{name:8} {cells}   ({scores.rows} rows, {len(scores.skipped)} skipped)")


if __name__ == "__main__":
    main()
