"""Every benchmark row in one go: throughput and peak memory of all extractors on CodiEsp dev notes.

    .venv/bin/python benchmarks/run_all.py [--limit N] [--repeats R] [--only NAME...] [--notes DIR]
        [--long-notes [SIZE ...]] [--out TABLE.md]

Runs each extractor (rules, encoder, llm, and any other row ``benchmarks/throughput.py``
defines, the medspaCy peers included; an extractor it has no loader for runs as the whole
``clinex.extract`` with ``clinex.load_extractor(name)``) in its own subprocess, so each peak RSS
is its own, on the first ``--limit`` notes,
``--repeats`` timed passes (median shown). An extractor that is not available (no loader, a
missing model or package) is skipped with the reason printed. Prints the machine and a
Markdown table, and the clinex rules row's ratio to each medspaCy row. ``--long-notes`` adds
``benchmarks/long_notes.py``'s tables (seconds per MB of each stage on long notes; its default
sizes, up to 2 MB, take many minutes on 2 cores). ``--out`` also writes the report to a file
for the README.
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _machine import format_machine  # noqa: E402
from long_notes import SIZES, VARIANTS  # noqa: E402
from long_notes import report as long_notes  # noqa: E402
from throughput import (  # noqa: E402
    DEFAULT_NOTES,
    LOADERS,
    RUNS,
    Row,
    bench_extractor,
    clinex_pipeline,
    medspacy_ratios,
    read_notes,
)

#: The extractors the project ships, benchmarked first and reported even when unavailable.
SHIPPED = ("rules", "encoder", "llm")


def run_row(name: str, notes: Path, repeats: int) -> Row | str:
    """The row for one extractor, or why it could not run."""
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--notes", str(notes)]
    done = subprocess.run([*command, "--repeats", str(repeats)], capture_output=True, text=True, check=False)
    if done.returncode:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        return lines[-1][:200] if lines else f"exit code {done.returncode}"
    return Row(**json.loads(done.stdout.strip().splitlines()[-1]))


def copy_notes(source: Path, limit: int | None, target: Path) -> int:
    files = sorted(source.glob("*.txt"))[:limit]
    for file in files:
        shutil.copy(file, target / file.name)
    return len(files)


def table(rows: dict[str, Row | str]) -> str:
    lines = [
        "| extractor | notes/s | chars/s | peak RSS MiB | of fp32 matmul FLOP/s | runs |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for name, row in rows.items():
        if isinstance(row, Row):
            lines.append(
                f"| {name} | {row.notes_per_s:.2f} | {row.chars_per_s:.0f} | {row.peak_rss_mib:.0f}"
                f" | {row.ceiling_fraction} | {RUNS.get(name, 'clinex.extract')} |"
            )
        else:
            lines.append(f"| {name} | | | | | skipped: {row} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=Path, default=DEFAULT_NOTES, help="folder of .txt notes")
    parser.add_argument("--limit", type=int, default=None, help="only the first N notes (sorted by name)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes over the notes (median shown)")
    parser.add_argument("--only", nargs="+", default=None, help="only these extractors (default: all)")
    parser.add_argument(
        "--long-notes",
        type=int,
        nargs="*",
        default=None,
        metavar="SIZE",
        help=f"also the long-note tables, at these sizes in characters (default {' '.join(map(str, SIZES))})",
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the machine and table here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        LOADERS.setdefault(args.worker, functools.partial(clinex_pipeline, args.worker))
        row = bench_extractor(args.worker, read_notes(args.notes), runs=args.repeats)
        print(json.dumps(row.__dict__))
        return
    if args.repeats < 1 or (args.limit is not None and args.limit < 1):
        parser.error("--repeats and --limit must be at least 1")
    names = args.only or list(dict.fromkeys([*SHIPPED, *LOADERS]))
    with tempfile.TemporaryDirectory() as folder:
        count = copy_notes(args.notes, args.limit, Path(folder))
        if not count:
            parser.error(f"no .txt notes in {args.notes}")
        rows: dict[str, Row | str] = {}
        for name in names:
            rows[name] = run_row(name, Path(folder), args.repeats)
            if isinstance(rows[name], str):
                print(f"skipping {name}: {rows[name]}", file=sys.stderr)
    chars = sum(len(p.read_text(encoding="utf-8")) for p in sorted(args.notes.glob("*.txt"))[:count])
    report = "\n".join(
        [
            "```",
            format_machine(),
            "```",
            "",
            f"{count} CodiEsp dev notes ({chars} characters), median of {args.repeats} passes, one process per row.",
            "",
            table(rows),
            "",
            *medspacy_ratios({name: row for name, row in rows.items() if isinstance(row, Row)}),
        ]
    )
    if args.long_notes is not None:
        tables = long_notes(
            args.long_notes or list(SIZES), repeats=args.repeats, variants=list(VARIANTS), threads=2
        )
        report += f"\n\nLong notes (benchmarks/long_notes.py):\n\n```\n{tables}\n```"
    print(report)
    if args.out is not None:
        args.out.write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
