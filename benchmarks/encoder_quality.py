"""Quality of the encoder extractor (and the rules extractor beside it) on held-out data.

    .venv/bin/python benchmarks/encoder_quality.py [--test data/synth/splits/test.jsonl]
        [--codiesp ../shared/data/codiesp/dev] [--extractors encoder rules] [--limit N]
        [--precision auto|fp32|bf16|int8] [--model DIR]

Synthetic test letters (held-out templates): entity F1 per type and ICD-10-CM code F1
(``diagnoses``, document-level codes as in ``clinex evaluate``). CodiEsp dev (English):
document-level diagnosis-code micro P/R/F1. Strict span matching, no bootstrap.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

import clinex
from clinex.core.types import Document
from clinex.eval.evaluation import EvalOptions, evaluate
from clinex.eval.readers import read_codiesp, read_jsonl
from clinex.eval.readers.codiesp import write_codiesp
from clinex.eval.readers.jsonl import write_jsonl

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


def predict(
    documents: list[Document],
    name: str,
    *,
    retrieval: bool = False,
    precision: str | None = None,
    model: Path | None = None,
) -> tuple[list[Document], float]:
    options: dict[str, object] = {}
    if name == "encoder" and retrieval:
        options["retrieval"] = True
    if name == "encoder" and precision:
        options["precision"] = precision
    if name == "encoder" and model is not None:
        options["model"] = model
    extractor = clinex.load_extractor(name, **options)
    start = time.perf_counter()
    out = [clinex.extract(d.text, extractor=extractor, id=d.id) for d in documents]
    return out, time.perf_counter() - start


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
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    options = EvalOptions(bootstrap=0)
    with tempfile.TemporaryDirectory() as tmp:
        gold = read_jsonl(args.test)
        docs = list(gold.documents.values())[: args.limit]
        gold.documents = {d.id: d for d in docs}
        runs = {}
        for name in args.extractors:
            predicted, seconds = predict(
                docs, name, retrieval=args.retrieval, precision=args.precision, model=args.model
            )
            write_jsonl(predicted, Path(tmp) / f"{name}.jsonl", with_text=True)
            runs[name] = read_jsonl(Path(tmp) / f"{name}.jsonl")
            print(
                f"{name}: {len(docs)} synthetic test letters in {seconds:.1f} s (precision {args.precision or 'default'})"
            )
        report = evaluate(gold, runs, options)
        print(f"\nSynthetic test letters ({args.test}, {len(docs)} letters), strict spans: F1")
        print(f"{'category':22}" + "".join(f"{r.name:>10}" for r in report.runs))
        for category in SYNTH_CATEGORIES:
            cells = []
            for run in report.runs:
                result = run.categories.get(category)
                f = result.micro.fscore if result is not None else None
                cells.append(f"{f:10.3f}" if f is not None else f"{'-':>10}")
            print(f"{category:22}" + "".join(cells))

        if args.skip_codiesp:
            return
        text_dir = args.codiesp / "text_files_en"
        codiesp_gold = read_codiesp(args.codiesp / f"{args.codiesp.name}D.tsv", text_dir=text_dir)
        ids = sorted(p.stem for p in text_dir.glob("*.txt"))[: args.limit]
        codiesp_gold.documents = {i: codiesp_gold.documents.get(i) or Document(id=i, text="") for i in ids}
        notes = [Document(id=i, text=(text_dir / f"{i}.txt").read_text(encoding="utf-8")) for i in ids]
        code_runs = {}
        for name in args.extractors:
            predicted, seconds = predict(
                notes, name, retrieval=args.retrieval, precision=args.precision, model=args.model
            )
            tsv = Path(tmp) / f"{name}D.tsv"
            write_codiesp(predicted, tsv)
            code_runs[name] = read_codiesp(tsv, text_dir=text_dir)
            print(f"{name}: {len(notes)} CodiEsp notes in {seconds:.1f} s")
        report = evaluate(codiesp_gold, code_runs, options)
        print(f"\nCodiEsp {args.codiesp.name} (English), {len(ids)} documents: diagnosis codes, micro")
        for run in report.runs:
            s = run.categories["diagnoses"].micro
            print(f"{run.name:10} P {s.precision or 0:.3f}  R {s.recall or 0:.3f}  F1 {s.fscore or 0:.3f}")


if __name__ == "__main__":
    main()
