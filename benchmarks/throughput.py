"""Throughput and peak memory of extractors on the CodiEsp dev notes, beside medspaCy.

    .venv/bin/python benchmarks/throughput.py [--notes DIR] [--runs 3] [--only rules medspacy ...]

Each row runs in its own subprocess (so its peak RSS is its own), makes one untimed pass over
the notes, then processes every note ``--runs`` times; the table shows the median run. To add a row, add a
loader to ``LOADERS`` (a function returning ``process(text)``) and say what it runs in ``RUNS``.

The clinex rows are the whole ``clinex.extract`` (extraction, assertion, coding). The medspaCy
rows match the same vocabulary (one TargetRule per clinex lexicon term) and run ConText, without
coding: ``medspacy`` is its stock pipeline (PyRuSH sentences, most of its time),
``medspacy-sentencizer`` its fastest configuration (spaCy's rule-based sentencizer instead). So
clinex does more work than medspaCy in these rows; the ratio is against the fastest medspaCy row.

For a row whose model FLOPs are known (``FLOPS``: the encoder), the same process then measures
this machine's fp32 matmul FLOP/s (the ceiling) and the table gives the fraction of it the
extractor achieves: the tagger's multiply-adds over the whole extraction time (coding and
assertion included, so a lower bound; ``benchmarks/encoder_speed.py`` separates the tagger and
compares precisions).
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import format_machine

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NOTES = ROOT.parent / "shared" / "data" / "codiesp" / "dev" / "text_files_en"

Process = Callable[[str], object]


def clinex_pipeline(name: str) -> Process:
    """The whole ``clinex.extract`` with the registered extractor ``name``."""
    import clinex

    return functools.partial(clinex.extract, extractor=clinex.load_extractor(name))


def load_medspacy(sentences: str = "pyrush") -> Process:
    """medspaCy's pipeline (``sentences``: its PyRuSH, or spaCy's rule-based ``sentencizer``),
    TargetMatcher and ConText, with one target rule per clinex lexicon term, so both sides match
    the same vocabulary."""
    import medspacy
    from medspacy.ner import TargetRule

    from clinex.extractors.rules.lexicon import load_lexicon

    if sentences == "pyrush":
        nlp = medspacy.load()
    else:
        nlp = medspacy.load(medspacy_disable=["medspacy_pyrush"])
        nlp.add_pipe("sentencizer", first=True)
    lexicon = load_lexicon()
    rules = [TargetRule(term, meaning.type.upper()) for term, meaning in lexicon.terms.items()]
    rules += [
        TargetRule(term, meaning.type.upper(), pattern=[{"ORTH": term}])
        for term, meaning in lexicon.exact_terms.items()
    ]
    nlp.get_pipe("medspacy_target_matcher").add(rules)
    return nlp  # type: ignore[no-any-return]


def encoder_flops(notes: list[str]) -> float:
    """Multiply-add FLOPs of the encoder's tagger on ``notes``, windowed as it windows them."""
    from encoder_speed import model_flops, window_lengths

    import clinex

    return model_flops(window_lengths(clinex.load_extractor("encoder"), notes))


#: Extractor rows: name → loader. The encoder and LLM rows are added here.
LOADERS: dict[str, Callable[[], Process]] = {
    "rules": functools.partial(clinex_pipeline, "rules"),
    "medspacy": load_medspacy,
    "medspacy-sentencizer": functools.partial(load_medspacy, "sentencizer"),
    "encoder": functools.partial(clinex_pipeline, "encoder"),
}
#: What each row runs (a row without an entry runs ``clinex.extract`` with that extractor).
RUNS = {
    "rules": "clinex.extract: lexicons, attributes, ConText + sections + learned assertion, coding",
    "medspacy": "medspaCy: PyRuSH sentences, TargetMatcher (same vocabulary), ConText; no coding",
    "medspacy-sentencizer": "medspaCy: spaCy sentencizer, TargetMatcher (same vocabulary), ConText; no coding",
    "encoder": "clinex.extract: MiniLM tagger, linking, ConText + sections + learned assertion, coding",
}
#: Rows whose model FLOPs are known: name → FLOPs of one pass over the notes.
FLOPS: dict[str, Callable[[list[str]], float]] = {"encoder": encoder_flops}
#: The clinex row compared with medspaCy, and the medspaCy rows it is compared with.
CLINEX_ROW, MEDSPACY_ROWS = "rules", ("medspacy", "medspacy-sentencizer")


@dataclass
class Row:
    name: str
    notes: int
    chars: int
    seconds: float
    peak_rss_mib: float
    #: FLOP/s achieved and this machine's fp32 matmul FLOP/s, where the model's FLOPs are known.
    gflops: float | None = None
    fp32_ceiling_gflops: float | None = None

    @property
    def ceiling_fraction(self) -> str:
        if self.gflops is None or not self.fp32_ceiling_gflops:
            return ""
        return f"{self.gflops / self.fp32_ceiling_gflops:.0%}"

    @property
    def notes_per_s(self) -> float:
        return self.notes / self.seconds

    @property
    def chars_per_s(self) -> float:
        return self.chars / self.seconds


def bench_extractor(name: str, notes: list[str], *, runs: int = 3) -> Row:
    """Time ``LOADERS[name]`` on ``notes`` in this process: median of ``runs`` full passes."""
    process = LOADERS[name]()
    # One untimed pass: models, rules and terminologies load lazily, on the first note that
    # needs each, which need not be the first note.
    for note in notes:
        process(note)
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        for note in notes:
            process(note)
        seconds.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    row = Row(name, len(notes), sum(map(len, notes)), statistics.median(seconds), peak)
    if name in FLOPS:
        import torch
        from encoder_speed import matmul_ceiling

        row.gflops = FLOPS[name](notes) / row.seconds / 1e9
        row.fp32_ceiling_gflops = matmul_ceiling(torch.get_num_threads(), torch.float32) / 1e9
    return row


def read_notes(folder: Path) -> list[str]:
    files = sorted(folder.glob("*.txt"))
    if not files:
        sys.exit(f"no .txt notes in {folder}")
    return [f.read_text(encoding="utf-8") for f in files]


def run_in_subprocess(name: str, folder: Path, runs: int) -> Row:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", name, "--notes", str(folder), "--runs", str(runs)],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.exit(f"{name} failed:\n{out.stderr[-2000:]}")
    return Row(**json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=Path, default=DEFAULT_NOTES, help="folder of .txt notes")
    parser.add_argument("--runs", type=int, default=3, help="timed passes over all notes (median shown)")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(LOADERS), default=list(LOADERS), help="rows to run"
    )
    parser.add_argument("--worker", choices=sorted(LOADERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        row = bench_extractor(args.worker, read_notes(args.notes), runs=args.runs)
        print(json.dumps(row.__dict__))
        return
    rows = [run_in_subprocess(name, args.notes, args.runs) for name in args.only]
    print(format_machine())
    print(
        f"\nnotes: {args.notes} ({rows[0].notes} notes, {rows[0].chars} chars), median of {args.runs} runs\n"
    )
    width = max(len("extractor"), *(len(row.name) for row in rows))
    print(
        f"{'extractor':<{width}} {'notes/s':>9} {'chars/s':>11} {'peak RSS MiB':>13} {'of fp32 FLOP/s':>15}  runs"
    )
    for row in rows:
        print(
            f"{row.name:<{width}} {row.notes_per_s:>9.1f} {row.chars_per_s:>11.0f} {row.peak_rss_mib:>13.0f}"
            f" {row.ceiling_fraction:>15}  {RUNS.get(row.name, 'clinex.extract')}"
        )
    for row in rows:
        if row.gflops is not None:
            print(
                f"{row.name}: {row.gflops:.1f} GFLOP/s of a {row.fp32_ceiling_gflops:.1f} GFLOP/s fp32 matmul ceiling"
            )
    print()
    for line in medspacy_ratios({row.name: row for row in rows}):
        print(line)


def medspacy_ratios(rows: dict[str, Row]) -> list[str]:
    """The clinex row's notes/s over each medspaCy row's, the fastest medspaCy row named."""
    peers = [rows[name] for name in MEDSPACY_ROWS if name in rows]
    if CLINEX_ROW not in rows or not peers:
        return []
    fastest = max(peers, key=lambda row: row.notes_per_s)
    return [
        f"clinex {CLINEX_ROW} (whole clinex.extract) / {row.name}: {rows[CLINEX_ROW].notes_per_s / row.notes_per_s:.2f}"
        + (" (the fastest medspaCy configuration; target: at least 1.5)" if row is fastest else "")
        for row in peers
    ]


if __name__ == "__main__":
    main()
