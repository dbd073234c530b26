"""--engine ray against the single-process path: notes/s with 1 and 2 workers, peak RSS per
worker, and what a kill-and-resume costs against an uninterrupted run.

    .venv/bin/python benchmarks/ray_scale.py [--extractors rules encoder] [--notes 3000 240]
        [--partition-size 100 20] [--repeats R] [--kill-extractor encoder] [--kill-notes N] [--out TABLE.md]

Notes: the CodiEsp train and dev case reports (``../shared/data/codiesp``, real clinical
prose), repeated with new ids where ``--notes`` asks for more than there are.

- ``local``: ``clinex.batch.run_batch`` in this process (the reference path), after the
  extractor is loaded and warmed up;
- ``ray 1`` / ``ray 2``: ``extract_on_ray`` on a local Ray cluster with 1 or 2 workers
  (started once per row and kept for its repeats, as a real cluster is);
- ``notes/s``: the steady rate, notes finished after the first partition over the time from
  the first partition's result to the last (start-up excluded: it is shown apart);
- ``start-up``: from the call to the first partition's result (actors started, extractor
  loaded and warmed up in each);
- ``peak RSS/worker``: the largest ``ru_maxrss`` a worker reported.

A partition should hold a second or more of a worker's time: between two tasks an actor idles
for Ray's turnaround (tens of ms on 2 cores), which costs a 2-worker rules run 8 % of its time at
100 notes per partition and 17 % at 20.

The kill-and-resume row runs ``clinex extract --engine ray`` as a subprocess (it starts its own
local cluster, as a user's command does), kills it with SIGKILL once half of the partitions
are written, runs the same command again to the end, and sets the sum of both wall times
against one uninterrupted run of the same command. Never asserted: it prints a table.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from _machine import DEFAULT_PACKAGES, describe, format_machine  # noqa: E402

CODIESP = ROOT.parent / "shared" / "data" / "codiesp"
CLINEX = Path(sys.executable).with_name("clinex")


def write_notes(target: Path, count: int) -> Path:
    files = sorted(CODIESP.glob("*/text_files_en/*.txt"))
    if not files:
        sys.exit(f"no CodiEsp notes under {CODIESP}")
    texts = [(f.stem, f.read_text(encoding="utf-8")) for f in files]
    with target.open("w", encoding="utf-8") as handle:
        for i in range(count):
            stem, text = texts[i % len(texts)]
            handle.write(json.dumps({"id": f"{stem}-{i // len(texts)}", "text": text}) + "\n")
    return target


class Arrivals:
    """A Progress that notes when each partition's result arrives."""

    def __init__(self) -> None:
        self.began = time.perf_counter()
        self.times: list[tuple[float, int]] = []

    def start(self, total: int, *, skipped: int) -> None:
        pass

    def advance(self, notes: int) -> None:
        self.times.append((time.perf_counter(), notes))

    def rates(self) -> tuple[float, float]:
        """(steady notes/s, start-up seconds)."""
        first = self.times[0][0]
        later = sum(n for _, n in self.times[1:])
        span = self.times[-1][0] - first
        return (later / span if span > 0 else float("nan")), first - self.began


def bench_local(name: str, notes: Path, repeats: int) -> dict[str, Any]:
    import resource

    from clinex.batch import open_writer, run_batch
    from clinex.inputs import read_inputs
    from clinex.pipeline import Pipeline, load_extractor

    extractor = load_extractor(name)
    Pipeline(extractor).warm_up()
    rates = []
    for _ in range(repeats):
        out = Path(tempfile.mkdtemp()) / "out.jsonl"
        writer = open_writer("jsonl", out, many=True, stdout=io.StringIO())
        started = time.perf_counter()
        done = sum(1 for o in run_batch(read_inputs([notes]), extractor, writer) if o.document is not None)
        rates.append(done / (time.perf_counter() - started))
        writer.close()
        shutil.rmtree(out.parent)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"notes_per_s": statistics.median(rates), "startup_s": None, "peak_rss_mb": peak}


def bench_ray(name: str, notes: Path, workers: int, repeats: int, partition_size: int) -> dict[str, Any]:
    import ray

    from clinex.batch.ray import extract_on_ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    rates, startups, peaks = [], [], []
    try:
        for _ in range(repeats):
            out = Path(tempfile.mkdtemp()) / "out"
            arrivals = Arrivals()
            run = extract_on_ray(
                [notes],
                out,
                extractor=name,
                workers=workers,
                partition_size=partition_size,
                progress=arrivals,
            )
            rate, startup = arrivals.rates()
            rates.append(rate)
            startups.append(startup)
            peaks.append(max(run.manifest["timings"]["peak_rss_mb_per_worker"].values()))
            shutil.rmtree(out.parent)
    finally:
        ray.shutdown()
    return {
        "notes_per_s": statistics.median(rates),
        "startup_s": statistics.median(startups),
        "peak_rss_mb": max(peaks),
    }


def run_command(
    notes: Path, out: Path, name: str, partition_size: int, *, kill_at: int | None = None
) -> float:
    """Wall seconds of ``clinex extract --engine ray --workers 2``; killed with SIGKILL once
    ``kill_at`` partitions are written (where given)."""
    command = [str(CLINEX), "extract", str(notes), "--engine", "ray", "--workers", "2", "-o", str(out)]
    command += ["-e", name, "-f", "jsonl", "--partition-size", str(partition_size), "-q"]
    started = time.perf_counter()
    driver = subprocess.Popen(command, stderr=subprocess.DEVNULL, start_new_session=True)
    if kill_at is None:
        driver.wait()
        return time.perf_counter() - started
    while len(list(out.glob("part-*"))) < kill_at and driver.poll() is None:
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    return time.perf_counter() - started


def bench_kill(name: str, notes: Path, count: int, partition_size: int) -> dict[str, Any]:
    partitions = -(-count // partition_size)
    work = Path(tempfile.mkdtemp())
    try:
        whole = run_command(notes, work / "whole", name, partition_size)
        killed = run_command(notes, work / "resumed", name, partition_size, kill_at=partitions // 2)
        kept = len(list((work / "resumed").glob("part-*")))
        resumed = run_command(notes, work / "resumed", name, partition_size)
        same = sorted((work / "whole").glob("part-*")) and all(
            (work / "whole" / p.name).read_bytes() == p.read_bytes()
            for p in (work / "resumed").glob("part-*")
        )
        ids = [
            json.loads(line)["id"]
            for p in (work / "resumed").glob("part-*")
            for line in p.read_text().splitlines()
        ]
    finally:
        shutil.rmtree(work)
    return {
        "whole_s": whole,
        "killed_s": killed,
        "resumed_s": resumed,
        "kept": kept,
        "partitions": partitions,
        "ratio": (killed + resumed) / whole,
        "same_output": bool(same),
        "notes_once": len(ids) == len(set(ids)) == count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extractors", nargs="+", default=["rules", "encoder"])
    parser.add_argument(
        "--notes", type=int, nargs="+", default=[3000, 240], help="notes per extractor, in order"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--partition-size",
        type=int,
        nargs="+",
        default=[100, 20],
        help="notes per partition per extractor, in order (about a second of a worker's time or more: "
        "Ray's turnaround between two tasks of an actor is tens of ms here)",
    )
    parser.add_argument("--kill-extractor", default="encoder")
    parser.add_argument("--kill-notes", type=int, default=240, help="0: no kill-and-resume row")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)  # mode name notes repeats
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.worker:
        mode, name, notes, repeats = args.worker
        if mode == "local":
            row = bench_local(name, Path(notes), int(repeats))
        else:
            row = bench_ray(name, Path(notes), int(mode), int(repeats), args.partition_size[0])
        print(json.dumps(row))
        return

    work = Path(tempfile.mkdtemp())
    lines = ["```", format_machine(describe((*DEFAULT_PACKAGES, "ray"))), "```", ""]
    lines += [
        f"| extractor | notes | partition | path | notes/s (median of {args.repeats}) | vs local | 2 vs 1 worker | start-up s | peak RSS/worker MiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    counts = _padded(args.notes, len(args.extractors))
    sizes = _padded(args.partition_size, len(args.extractors))
    for name, count, size in zip(args.extractors, counts, sizes, strict=True):
        notes = write_notes(work / f"{name}.jsonl", count)
        rows = {}
        for mode in ("local", "1", "2"):
            command = [sys.executable, __file__, "--worker", mode, name, str(notes), str(args.repeats)]
            command += ["--partition-size", str(size)]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            rows[mode] = json.loads(done.stdout.strip().splitlines()[-1])
        for mode, label in (("local", "local (1 process)"), ("1", "ray, 1 worker"), ("2", "ray, 2 workers")):
            row = rows[mode]
            ratio = row["notes_per_s"] / rows["local"]["notes_per_s"]
            scale = f"{rows['2']['notes_per_s'] / rows['1']['notes_per_s']:.2f}×" if mode == "2" else ""
            startup = f"{row['startup_s']:.1f}" if row["startup_s"] is not None else "–"
            lines.append(
                f"| {name} | {count} | {size} | {label} | {row['notes_per_s']:.1f} | {ratio:.2f}× | {scale} | {startup} | {row['peak_rss_mb']:.0f} |"
            )
        print("\n".join(lines[-3:]), flush=True)
    if args.kill_notes:
        lines += _kill_rows(args, work)
    shutil.rmtree(work)
    report = "\n".join(lines) + "\n"
    print(report)
    if args.out:
        args.out.write_text(report, encoding="utf-8")


def _padded(values: list[int], count: int) -> list[int]:
    return (values + [values[-1]] * count)[:count]


def _kill_rows(args: argparse.Namespace, work: Path) -> list[str]:
    sizes = dict(zip(args.extractors, _padded(args.partition_size, len(args.extractors)), strict=True))
    size = sizes.get(args.kill_extractor, args.partition_size[-1])
    notes = write_notes(work / "kill.jsonl", args.kill_notes)
    kill = bench_kill(args.kill_extractor, notes, args.kill_notes, size)
    return [
        "",
        f"Kill and resume ({args.kill_extractor}, {args.kill_notes} notes, {kill['partitions']} partitions of {size}, "
        "`clinex extract --engine ray --workers 2`, SIGKILL at half the partitions):",
        "",
        "| uninterrupted s | killed run s | partitions kept | resumed run s | (killed + resumed) / uninterrupted | output identical | every note once |",
        "|---|---|---|---|---|---|---|",
        f"| {kill['whole_s']:.1f} | {kill['killed_s']:.1f} | {kill['kept']} of {kill['partitions']} | "
        f"{kill['resumed_s']:.1f} | {kill['ratio']:.2f}× | {kill['same_output']} | {kill['notes_once']} |",
    ]


if __name__ == "__main__":
    main()
