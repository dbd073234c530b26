"""What a code linker learned from CodiEsp train does to CodiEsp dev and the synthetic test split.

    .venv/bin/python benchmarks/linker_codiesp.py --out /tmp/linker [--silver FILE ...]
        [--extractors rules encoder] [--limit N] [--threads 2] [--neighbours]

1. The linker: from ``--silver`` files (``clinex align`` output of CodiEsp *train*), or, without
   them, from a simple alignment of CodiEsp train: each extractor (no linker) runs on the train
   notes, and a predicted condition is kept, with the gold code, where its code is in that
   note's gold set, or where exactly one gold code shares its 3-character category (the
   coders' more specific code). The union over extractors (one pair per span and code) is
   written to ``OUT/codiesp_train_silver.jsonl`` and the linker to ``OUT/linker.json``. Dev
   notes are never read for it. ``--neighbours`` also embeds the learned mentions with the base
   MiniLM, so unseen paraphrases borrow their nearest mention's counts.
2. The measure: each extractor runs once per note of CodiEsp dev and of the synthetic test
   split; its entities are finished (assertion, coding, calibration) without and with the
   linker, written to ``OUT/<extractor>[-linker]-<set>.jsonl`` and scored as ``clinex
   evaluate`` scores them: CodiEsp dev diagnosis code sets (P/R/F1, MAP, 3-character F1) and
   the synthetic test categories (F1). The files reproduce each figure with ``clinex evaluate
   --gold ../shared/data/codiesp/dev/devD.tsv --pred NAME=OUT/<file> --text
   ../shared/data/codiesp/dev/text_files_en``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Sequence
from pathlib import Path

import torch

import clinex
from clinex.core.extractor import Extractor, SupportsBatch
from clinex.core.serialize import document_to_record
from clinex.core.systems import ICD10CM
from clinex.core.types import Document, Entity
from clinex.corpora import Corpus, read_codiesp, read_jsonl
from clinex.corpora.jsonl import write_jsonl
from clinex.eval.evaluation import EvalOptions, evaluate
from clinex.pipeline import NoteInput, Pipeline
from clinex.terminology.icd10cm import normal_code
from clinex.terminology.learned import LearnedLinker, build_linker

CODIESP = Path("../shared/data/codiesp")
SYNTH_TEST = Path("data/synth/splits/test.jsonl")
SYNTH_CATEGORIES = ("entities:condition", "diagnoses", "entities:medication", "entities:lab", "labs")


def raw_entities(extractor: Extractor, texts: Sequence[str]) -> list[list[Entity]]:
    """Stage 1 for every note, in batches where the extractor takes several."""
    if isinstance(extractor, SupportsBatch):
        out: list[list[Entity]] = []
        for first in range(0, len(texts), 16):
            out.extend(extractor.extract_batch(list(texts[first : first + 16])))
        return out
    return [extractor.extract(text) for text in texts]


def codiesp_notes(split: str, limit: int | None) -> tuple[list[NoteInput], dict[str, set[str]]]:
    folder = CODIESP / split / "text_files_en"
    ids = sorted(p.stem for p in folder.glob("*.txt"))[:limit]
    gold: dict[str, set[str]] = {i: set() for i in ids}
    for line in (CODIESP / split / f"{split}D.tsv").read_text(encoding="utf-8").splitlines():
        note, _, code = line.partition("\t")
        if note in gold:
            gold[note].add(normal_code(code))
    return [NoteInput((folder / f"{i}.txt").read_text(encoding="utf-8"), i) for i in ids], gold


def simple_silver(extractors: list[str], out: Path, limit: int | None) -> Path:
    """The simple alignment of CodiEsp train (module docstring) as silver clinex JSONL."""
    notes, gold = codiesp_notes("train", limit)
    kept: dict[str, dict[tuple[int, int, str], Entity]] = {n.id: {} for n in notes}
    for name in extractors:
        extractor = clinex.load_extractor(name)
        pipeline = Pipeline(extractor)
        for note, found in zip(notes, raw_entities(extractor, [n.text for n in notes]), strict=True):
            for entity in pipeline.finish(note, found).entities:
                code = _gold_code(entity, gold[note.id])
                if code is not None and entity.start is not None and entity.end is not None:
                    coded = entity.with_(code=clinex.Code(system=ICD10CM, code=code))
                    kept[note.id].setdefault((entity.start, entity.end, code), coded)
    path = out / "codiesp_train_silver.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for note in notes:
            doc = Document(text=note.text, id=note.id, entities=sorted(kept[note.id].values(), key=_start))
            record = document_to_record(doc)
            record["text"] = note.text
            record["meta"] = {
                "align": {"source": "trainD.tsv", "method": "extractor code in gold set", "partial": True}
            }
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"simple alignment: {sum(map(len, kept.values()))} coded mentions in {len(notes)} train notes")
    return path


def _gold_code(entity: Entity, gold: set[str]) -> str | None:
    """The gold code a predicted condition stands for: its own, or the one gold code of its category."""
    if entity.type != "condition" or entity.code is None or entity.code.system != ICD10CM:
        return None
    code = normal_code(entity.code.code)
    if code in gold:
        return code
    same = [g for g in gold if g[:3] == code[:3]]
    return same[0] if len(same) == 1 else None


def _start(entity: Entity) -> int:
    return entity.start or 0


def measure(extractors: list[str], linker: Path | LearnedLinker, out: Path, limit: int | None) -> None:
    options = EvalOptions(bootstrap=0)
    dev_notes, _ = codiesp_notes("dev", limit)
    dev_gold = read_codiesp(CODIESP / "dev" / "devD.tsv", text_dir=CODIESP / "dev" / "text_files_en")
    dev_gold.documents = {n.id: dev_gold.documents.get(n.id) or Document(id=n.id, text="") for n in dev_notes}
    synth_gold = read_jsonl(SYNTH_TEST)
    synth_docs = list(synth_gold.documents.values())[:limit]
    synth_gold.documents = {d.id: d for d in synth_docs}
    synth_notes = [NoteInput(d.text, d.id) for d in synth_docs]
    dev_runs: dict[str, Corpus] = {}
    synth_runs: dict[str, Corpus] = {}
    for name in extractors:
        extractor = clinex.load_extractor(name)
        plain, learned = Pipeline(extractor), Pipeline(extractor, linker=linker)
        for label, notes, runs in (
            ("codiesp-dev", dev_notes, dev_runs),
            ("synth-test", synth_notes, synth_runs),
        ):
            start = time.perf_counter()
            found = raw_entities(extractor, [n.text for n in notes])
            for run_name, pipeline in ((name, plain), (f"{name}+linker", learned)):
                docs = [pipeline.finish(n, f) for n, f in zip(notes, found, strict=True)]
                path = out / f"{run_name.replace('+', '-')}-{label}.jsonl"
                write_jsonl(docs, path, with_text=True)
                runs[run_name] = read_jsonl(path)
            print(f"{name}: {len(notes)} {label} notes in {time.perf_counter() - start:.1f} s")
    report = evaluate(dev_gold, dev_runs, options)
    print(f"\nCodiEsp dev (English), {len(dev_notes)} documents: diagnosis code sets, micro")
    for run in report.runs:
        codes = run.categories["codes:diagnoses"]
        s = codes.micro
        three = run.categories["codes:diagnoses:3char"].micro.fscore or 0
        print(
            f"{run.name:16} P {s.precision or 0:.3f}  R {s.recall or 0:.3f}  F1 {s.fscore or 0:.3f}"
            f"  MAP {codes.map or 0:.3f}  3-character F1 {three:.3f}"
        )
    report = evaluate(synth_gold, synth_runs, options)
    print(f"\nSynthetic test split ({SYNTH_TEST}, {len(synth_docs)} letters), strict spans: F1")
    print(f"{'category':20}" + "".join(f"{r.name:>17}" for r in report.runs))
    for category in SYNTH_CATEGORIES:
        cells = []
        for run in report.runs:
            result = run.categories.get(category)
            f = result.micro.fscore if result is not None else None
            cells.append(f"{f:17.3f}" if f is not None else f"{'-':>17}")
        print(f"{category:20}" + "".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--silver", type=Path, nargs="*", help="silver JSONL of CodiEsp train (clinex align)")
    parser.add_argument("--extractors", nargs="+", default=["rules", "encoder"])
    parser.add_argument("--limit", type=int, default=None, help="only the first N notes of each set")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--neighbours", action="store_true", help="embed the mentions (base MiniLM) for the neighbour search"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} threads")
    args.out.mkdir(parents=True, exist_ok=True)
    silver = args.silver or [simple_silver(args.extractors, args.out, args.limit)]
    embed = None
    if args.neighbours:
        from clinex.extractors.encoder.retrieval import SentenceEmbedder

        embed = SentenceEmbedder()
    linker = build_linker(silver, args.out / "linker.json", embed=embed)
    print(
        f"linker: {linker.pairs} pairs, {len(linker.table.get(ICD10CM, {}))} mentions, sha256 {linker.digest[:16]}"
    )
    # With --neighbours the instance carries its embedder (the encoder's retriever offers none yet).
    measure(args.extractors, linker if embed is not None else args.out / "linker.json", args.out, args.limit)


if __name__ == "__main__":
    main()
