"""`clinex monitor` on constructed shifts: which alarms each raises, and what monitoring costs.

    .venv/bin/python benchmarks/monitor_shifts.py [--synth data/synth] [--codiesp ../shared/data/codiesp/dev]
        [--notes 100] [--extractor rules] [--repeats 3] [--report out/monitor]

REF: ``--notes`` synthetic letters of the training layouts. Each CUR has as many notes:
another sample of the same letters (no shift), the held-out layouts of the test split (a new
letter layout; also in a quarter and in half of the notes only), the same letters in a clinician's short-hand (``clinex.testing.abbreviated``),
with another site's section headers (``clinex.testing.new_site_headers``), and CodiEsp case
reports. Each side is extracted with ``--extractor`` (calibrated, as ``clinex extract`` does);
the table gives the run's status, the signals that alarm and warn, and the median seconds of
the monitor run against the seconds the extractor took on the same CUR notes (the peer: what
the monitored work costs). ``--report`` writes each run's monitor.html/json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path

from _machine import format_machine

from clinex.core.types import Document
from clinex.monitor import MonitorSet, monitor, write_report
from clinex.pipeline import Pipeline, load_extractor
from clinex.testing import abbreviated, new_site_headers


def _mixed(same: list[dict[str, str]], other: list[dict[str, str]], share: float) -> list[tuple[str, str]]:
    """``same`` with its first ``share`` replaced by notes of ``other``: a partial shift."""
    k = round(len(same) * share)
    return [(r["id"], r["text"]) for r in (*other[:k], *same[k:])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synth", type=Path, default=Path("data/synth"))
    parser.add_argument("--codiesp", type=Path, default=Path("../shared/data/codiesp/dev"))
    parser.add_argument("--notes", type=int, default=100)
    parser.add_argument("--extractor", default="rules")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--report", type=Path, default=None)
    args = parser.parse_args()
    print(format_machine())
    pipeline = Pipeline(load_extractor(args.extractor))
    train = [
        json.loads(line) for line in (args.synth / "splits" / "train.jsonl").read_text("utf-8").splitlines()
    ]
    test = [
        json.loads(line) for line in (args.synth / "splits" / "test.jsonl").read_text("utf-8").splitlines()
    ]
    picks = random.Random(0).sample(train, 2 * args.notes)
    n = args.notes
    codiesp = sorted((args.codiesp / "text_files_en").glob("*.txt"))[:n]
    sides: dict[str, list[tuple[str, str]]] = {
        "REF": [(r["id"], r["text"]) for r in picks[:n]],
        "no shift (same letters, another sample)": [(r["id"], r["text"]) for r in picks[n:]],
        "new letter layout (held-out templates)": [(r["id"], r["text"]) for r in test[:n]],
        "a quarter of the notes in the new layout": _mixed(picks[n:], test, 0.25),
        "half of the notes in the new layout": _mixed(picks[n:], test, 0.5),
        "abbreviation-heavy style": [(f"abbr-{r['id']}", abbreviated(r["text"])) for r in picks[n:]],
        "another site's section headers": [
            (f"site-{r['id']}", new_site_headers(r["text"])) for r in picks[n:]
        ],
        "CodiEsp case reports": [(p.stem, p.read_text(encoding="utf-8")) for p in codiesp],
    }
    extracted: dict[str, list[Document]] = {}
    extract_seconds: dict[str, float] = {}
    for name, notes in sides.items():
        began = time.perf_counter()
        extracted[name] = [pipeline(text, id=note_id) for note_id, text in notes]
        extract_seconds[name] = time.perf_counter() - began
    ref = MonitorSet(name="REF", documents=extracted["REF"])
    print(f"\nREF: {len(ref.documents)} synthetic letters; extractor {pipeline.extractor.name} (calibrated)")
    print("| CUR | notes | status | alarms | warnings | monitor s | extraction s | monitor / extraction |")
    print("|---|---:|---|---|---|---:|---:|---:|")
    for name, docs in extracted.items():
        if name == "REF":
            continue
        times = []
        for _ in range(args.repeats):
            began = time.perf_counter()
            report = monitor(ref, MonitorSet(name="CUR", documents=docs))
            times.append(time.perf_counter() - began)
        seconds = statistics.median(times)
        alarms = ", ".join(s.name for s in report.signals if s.status == "alarm") or "—"
        warns = ", ".join(s.name for s in report.signals if s.status == "warn") or "—"
        print(
            f"| {name} | {len(docs)} | {report.status} | {alarms} | {warns} | {seconds:.1f} | "
            f"{extract_seconds[name]:.1f} | {seconds / extract_seconds[name]:.2f}× |"
        )
        if args.report is not None:
            folder = args.report / name.split(" (")[0].replace(" ", "_").replace("'", "")
            write_report(report, folder)


if __name__ == "__main__":
    main()
