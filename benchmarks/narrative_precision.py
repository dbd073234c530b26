"""Span precision and recall per type on real narrative: MACCROBAT2020 case reports, lenient match.

    .venv/bin/python benchmarks/narrative_precision.py [--maccrobat ../shared/data/maccrobat]
        [--runs encoder encoder-nosupport rules] [--limit N] [--threads 2]

Each run extracts every case report with the full pipeline (``calibration="none"``: spans are
the same either way) and is scored per entity type with lenient matching (the spans overlap,
one to one, same type; as ``clinex evaluate --match lenient``) on the ``fit`` half
(:func:`clinex.corpora.maccrobat_halves`, where the encoder's span-support thresholds were
chosen), the ``report`` half and the whole folder. ``encoder-nosupport`` is the encoder with the
span-support filter off (``support=False``): the before of that change. No model learns from
these notes.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from _machine import format_machine

from clinex.core.types import Document
from clinex.corpora import read_corpus
from clinex.corpora.maccrobat import maccrobat_halves
from clinex.eval import Category, PRFScore, match
from clinex.pipeline import Pipeline, load_extractor

TYPES = ("condition", "medication", "lab", "procedure")
RUNS = {
    "encoder": ("encoder", {}),
    "encoder-nosupport": ("encoder", {"support": False}),
    "rules": ("rules", {}),
}


def scores(gold: dict[str, Document], pred: dict[str, Document], ids: list[str]) -> dict[str, PRFScore]:
    """Lenient span P/R/F1 per type (and ``all``) over the documents ``ids``."""
    out = {t: PRFScore() for t in (*TYPES, "all")}
    for t in TYPES:
        category = Category(f"entities:{t}", t, (t,), lambda e: e.type)
        for doc_id in ids:
            found = match(gold[doc_id].entities, pred[doc_id].entities, category, "lenient").score()
            out[t] += found
            out["all"] += found
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maccrobat", type=Path, default=Path("../shared/data/maccrobat"))
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    parser.add_argument("--limit", type=int, default=None, help="only the first N reports (smoke test)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(format_machine())
    gold = read_corpus(args.maccrobat, format="maccrobat").documents
    fit, report = maccrobat_halves(args.maccrobat)
    if args.limit is not None:
        keep = set(sorted(gold)[: args.limit])
        fit, report = [i for i in fit if i in keep], [i for i in report if i in keep]
    halves = {"fit": fit, "report": report, "all": sorted(fit + report)}
    print(f"MACCROBAT: {len(fit)} fit + {len(report)} report case reports; lenient span match, per type")
    print(f"{'run':18}{'half':8}{'type':12}{'P':>7}{'R':>7}{'F1':>7}{'TP':>6}{'FP':>6}{'FN':>6}")
    for run in args.runs:
        name, options = RUNS[run]
        pipeline = Pipeline(load_extractor(name, **options), calibration="none")
        pred = {i: pipeline(gold[i].text, id=i) for i in halves["all"]}
        for half, ids in halves.items():
            for t, s in scores(gold, pred, ids).items():
                print(
                    f"{run:18}{half:8}{t:12}{s.precision or 0:7.3f}{s.recall or 0:7.3f}{s.fscore or 0:7.3f}"
                    f"{s.tp:6d}{s.fp:6d}{s.fn:6d}"
                )


if __name__ == "__main__":
    main()
