"""How often the plausibility checks fire on real notes, and what they cost beside the pipeline.

    .venv/bin/python benchmarks/plausibility.py [--notes DIR] [--limit 100] [--jsonl FILE ...]
        [--extractors rules encoder] [--repeats 3]

Runs each extractor's whole pipeline (``clinex.pipeline.Pipeline``, checks included) over the
notes: by default the CodiEsp dev notes (``../shared/data/codiesp/dev/text_files_en/*.txt``, the
first ``--limit`` in name order), plus the ``{"id", "text"}`` records of any ``--jsonl`` file.
One untimed pass loads what loads lazily (models, terminologies, the UCUM registry); then the
pipeline over every note and :func:`clinex.plausibility.run_checks` over the Documents it made
are each timed ``--repeats`` times, and the median is shown. Facts are the Documents' entities;
the rate is findings per 1,000 facts. CodiEsp notes are Spanish case reports translated into
English: no patient, no note date (dates are checked against the day of the run) and few doses
with a route, so the rates are of such notes, not of discharge letters.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import format_machine

from clinex.core.errors import ClinexError
from clinex.core.types import Document
from clinex.pipeline import NoteInput, Pipeline, load_extractor
from clinex.plausibility import CHECKS, run_checks

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NOTES = ROOT.parent / "shared" / "data" / "codiesp" / "dev" / "text_files_en"
BATCH = 16


def read_notes(folder: Path | None, limit: int, jsonl: list[Path]) -> list[NoteInput]:
    """The first ``limit`` ``.txt`` notes of ``folder`` (0: all), then every JSONL record."""
    notes: list[NoteInput] = []
    if folder is not None:
        files = sorted(folder.glob("*.txt"))
        for path in files[:limit] if limit else files:
            notes.append(NoteInput(path.read_text(encoding="utf-8"), path.stem))
    for path in jsonl:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    record = json.loads(line)
                    notes.append(NoteInput(record["text"], str(record.get("id", f"{path.stem}:{number}"))))
    return notes


def run_pipeline(pipeline: Pipeline, notes: list[NoteInput]) -> list[Document]:
    docs: list[Document] = []
    for start in range(0, len(notes), BATCH):
        docs += [r for r in pipeline.run_many(notes[start : start + BATCH]) if not isinstance(r, ClinexError)]
    return docs


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=Path, default=DEFAULT_NOTES, help="folder of .txt notes")
    parser.add_argument("--limit", type=int, default=100, help="first N notes of --notes (0: all)")
    parser.add_argument("--no-notes", action="store_true", help="only the --jsonl records")
    parser.add_argument("--jsonl", type=Path, nargs="*", default=[], help='files of {"id", "text"} lines')
    parser.add_argument("--extractors", nargs="+", default=["rules"], help="registry names")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes (median shown)")
    args = parser.parse_args()
    notes = read_notes(None if args.no_notes else args.notes, args.limit, args.jsonl)
    if not notes:
        raise SystemExit("no notes: give --notes DIR or --jsonl FILE")

    print(format_machine())
    print(f"\n{len(notes)} notes; median of {args.repeats} timed passes after one untimed pass\n")
    rows = []
    for name in args.extractors:
        pipeline = Pipeline(load_extractor(name))
        docs = run_pipeline(pipeline, notes)  # the untimed pass
        pipeline_s = median_seconds(lambda p=pipeline: run_pipeline(p, notes), args.repeats)
        checks_s = median_seconds(lambda d=docs: [run_checks(doc) for doc in d], args.repeats)
        facts = sum(len(doc.entities) for doc in docs)
        found = Counter(f["check"] for doc in docs for f in doc.meta["checks"])
        rows.append((name, len(docs), facts, found, checks_s, pipeline_s))

    print(
        f"{'extractor':10} {'notes':>6} {'facts':>7} {'findings':>9} {'/1k facts':>10} {'checks s':>9} {'pipeline s':>11} {'share':>7}"
    )
    for name, done, facts, found, checks_s, pipeline_s in rows:
        total = sum(found.values())
        print(
            f"{name:10} {done:6d} {facts:7d} {total:9d} {_rate(total, facts):>10} {checks_s:9.3f} "
            f"{pipeline_s:11.2f} {checks_s / pipeline_s:7.2%}"
        )
    print(f"\n{'check':34}" + "".join(f"{name + ' n':>12}{'/1k':>8}" for name, *_ in rows))
    for check in CHECKS:
        cells = "".join(f"{row[3][check]:12d}{_rate(row[3][check], row[2]):>8}" for row in rows)
        print(f"{check:34}{cells}")


def _rate(count: int, facts: int) -> str:
    return f"{1000 * count / facts:.2f}" if facts else "-"


if __name__ == "__main__":
    main()
