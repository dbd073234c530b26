"""Quality of the encoder extractor (and the rules extractor beside it) on held-out data.

    .venv/bin/python benchmarks/encoder_quality.py [--test data/synth/splits/test.jsonl]
        [--codiesp ../shared/data/codiesp/dev] [--extractors encoder rules] [--limit N]
        [--precision auto|fp32|bf16|int8] [--model DIR] [--min-confidence T [T ...]]

Synthetic test letters (held-out templates): entity F1 per type, strict spans, and ICD-10-CM
code F1 (``diagnoses``). CodiEsp dev (English): document-level diagnosis code sets as CodiEsp
scores them (``codes:diagnoses`` of ``clinex evaluate``: a code counts once per document however
often it is found; negated, family and hypothetical mentions are not coded), micro P/R/F1, MAP
and 3-character F1. No bootstrap. With several ``--min-confidence`` thresholds each extractor
runs once per threshold (``encoder>=0.5``): the trade-off of ``clinex extract --min-confidence``.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

import clinex
from clinex.core.types import Document
from clinex.corpora import Corpus, read_codiesp, read_jsonl
from clinex.corpora.jsonl import write_jsonl
from clinex.eval.evaluation import EvalOptions, evaluate

SYNTH_CATEGORIES = (
    "entities",
    "entities:medication",
    "entities:lab",
    "entities:condition",
    "diagnoses",
    "medications+dose",
    "labs",
    "tumour",
)


def predict_runs(
    documents: list[Document], args: argparse.Namespace, out: Path, label: str
) -> dict[str, Corpus]:
    """Each extractor at each ``--min-confidence`` threshold over ``documents``, read back as
    the corpora ``clinex evaluate`` scores (written to ``out`` as JSONL)."""
    runs = {}
    for name, extractor_name, threshold in runs_of(args.extractors, args.min_confidence):
        options: dict[str, object] = {}
        if extractor_name == "encoder":
            options = {"retrieval": args.retrieval, "model": args.model, "precision": args.precision}
        extractor = clinex.load_extractor(extractor_name, **{k: v for k, v in options.items() if v})
        start = time.perf_counter()
        predicted = [
            clinex.extract(d.text, extractor=extractor, id=d.id, min_confidence=threshold) for d in documents
        ]
        seconds = time.perf_counter() - start
        write_jsonl(predicted, out / f"{name}-{label}.jsonl", with_text=True)
        runs[name] = read_jsonl(out / f"{name}-{label}.jsonl")
        print(
            f"{name}: {len(documents)} {label} in {seconds:.1f} s (precision {args.precision or 'default'})"
        )
    return runs


def runs_of(extractors: list[str], thresholds: list[float]) -> list[tuple[str, str, float]]:
    """(run name, extractor, threshold) for each extractor and threshold; runs are named
    ``encoder``, ``encoder>=0.5``."""
    return [(f"{name}>={t:g}" if t else name, name, t) for name in extractors for t in thresholds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", type=Path, default=Path("data/synth/splits/test.jsonl"))
    parser.add_argument("--codiesp", type=Path, default=Path("../shared/data/codiesp/dev"))
    parser.add_argument("--extractors", nargs="+", default=["encoder", "rules"])
    parser.add_argument(
        "--limit", type=int, default=None, help="score only the first N documents of each set"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--retrieval", action="store_true", help="encoder: add ICD-10-CM embedding retrieval")
    parser.add_argument("--skip-codiesp", action="store_true")
    parser.add_argument(
        "--precision", choices=["auto", "fp32", "bf16", "int8"], help="encoder precision (default: its own)"
    )
    parser.add_argument("--model", type=Path, help="encoder model directory (default: the packaged one)")
    parser.add_argument(
        "--min-confidence", type=float, nargs="+", default=[0.0], help="confidence thresholds to compare"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    options = EvalOptions(bootstrap=0)
    with tempfile.TemporaryDirectory() as tmp:
        gold = read_jsonl(args.test)
        docs = list(gold.documents.values())[: args.limit]
        gold.documents = {d.id: d for d in docs}
        runs = predict_runs(docs, args, Path(tmp), "synthetic test letters")
        report = evaluate(gold, runs, options)
        print(f"\nSynthetic test letters ({args.test}, {len(docs)} letters), strict spans: F1")
        print(f"{'category':22}" + "".join(f"{r.name:>15}" for r in report.runs))
        for category in SYNTH_CATEGORIES:
            cells = []
            for run in report.runs:
                result = run.categories.get(category)
                f = result.micro.fscore if result is not None else None
                cells.append(f"{f:15.3f}" if f is not None else f"{'-':>15}")
            print(f"{category:22}" + "".join(cells))

        if args.skip_codiesp:
            return
        text_dir = args.codiesp / "text_files_en"
        codiesp_gold = read_codiesp(args.codiesp / f"{args.codiesp.name}D.tsv", text_dir=text_dir)
        ids = sorted(p.stem for p in text_dir.glob("*.txt"))[: args.limit]
        codiesp_gold.documents = {i: codiesp_gold.documents.get(i) or Document(id=i, text="") for i in ids}
        notes = [Document(id=i, text=(text_dir / f"{i}.txt").read_text(encoding="utf-8")) for i in ids]
        code_runs = predict_runs(notes, args, Path(tmp), "CodiEsp notes")
        report = evaluate(codiesp_gold, code_runs, options)
        print(
            f"\nCodiEsp {args.codiesp.name} (English), {len(ids)} documents: diagnosis code sets "
            "(negated, family, hypothetical mentions not coded), micro"
        )
        for run in report.runs:
            codes = run.categories["codes:diagnoses"]
            s = codes.micro
            three_char = run.categories["codes:diagnoses:3char"].micro.fscore or 0
            print(
                f"{run.name:13} P {s.precision or 0:.3f}  R {s.recall or 0:.3f}  F1 {s.fscore or 0:.3f}"
                f"  MAP {codes.map or 0:.3f}  3-character F1 {three_char:.3f}"
            )


if __name__ == "__main__":
    main()
