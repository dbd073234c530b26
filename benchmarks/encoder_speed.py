"""Encoder extractor throughput on 400-word notes in fp32, bf16 and int8, against the matmul ceiling.

    .venv/bin/python benchmarks/encoder_speed.py [--notes 20] [--repeats 3] [--threads 2]
        [--letters data/synth/letters.jsonl] [--variants fp32 bf16 int8] [--model DIR]

Each repeat of each variant runs in its own process, so that its peak RSS is its own and its
terminology lookups start as cold as in a fresh ``clinex extract``; the variants take turns, so
that a change in the machine's load hits them alike. The table shows the median of the repeats.

- tagger: the tagger and span decoding alone, note by note (as the pipeline runs them);
- pipeline: ``clinex.extract(note, extractor=...)`` note by note, with the extractor loaded as
  ``clinex extract`` loads it (ConText assertion, coding, normaliser) at the variant's precision;
- GFLOP/s: the tagger's matmul work on the windows actually run, over the tagger's seconds;
- ceilings: the best of ten 2048² matmuls in the variant's precision (fp32 for fp32 and int8,
  whose quantised matmuls have no simple ceiling here) and in fp32, timed in the same process
  with the same threads;
- cores: the CPU time the tagger pass got over its wall time. Below ``--threads``, other jobs
  took cores from it, and its times are too slow.

Never asserted: a benchmark prints a table, the machine and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import format_machine

WORDS = 400
VARIANTS = ("fp32", "bf16", "int8")


def notes_of(path: Path | None, count: int) -> list[str]:
    """``count`` notes of exactly WORDS words, cut from synthetic letters (or the bundled example)."""
    if path is not None and path.is_file():
        texts = [json.loads(line)["text"] for line in path.open() if line.strip()]
    else:
        texts = [Path("examples/discharge_letter.txt").read_text()]
    words: list[str] = []
    for text in texts * (1 + WORDS * count // max(1, sum(len(t.split()) for t in texts))):
        words.extend(text.split(" "))
    return [" ".join(words[i * WORDS : (i + 1) * WORDS]) for i in range(count)]


def matmul_ceiling(threads: int, dtype: Any, size: int = 2048, repeats: int = 10) -> float:
    """Best FLOP/s of a size×size matmul in ``dtype`` on ``threads`` threads."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(size, size).to(dtype), torch.randn(size, size).to(dtype)
    a @ b
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = max(best, 2 * size**3 / (time.perf_counter() - start))
    return best


def model_flops(
    window_lengths: list[int], hidden: int = 384, layers: int = 6, ffn: int = 1536, labels: int = 29
) -> float:
    """Multiply-add FLOPs of the tagger on windows of these lengths ([CLS]/[SEP] included)."""
    total = 0.0
    for n in window_lengths:
        per_layer = 2 * n * hidden * hidden * 4 + 2 * n * hidden * ffn * 2 + 2 * 2 * n * n * hidden
        total += layers * per_layer + 2 * n * hidden * (labels + 5)
    return total


def window_lengths(engine: Any, notes: list[str]) -> list[int]:
    """The token length of every window the encoder extractor ``engine`` runs on ``notes``
    ([CLS]/[SEP] included)."""
    from clinex.extractors.encoder.windows import make_windows

    return [
        w.end - w.start + 2
        for e in engine.tokenizer.encode_batch(notes, add_special_tokens=False)
        for w in make_windows(len(e.ids), max_len=engine.config.max_len, overlap=engine.config.overlap)
    ]


def run_variant(
    precision: str, notes: list[str], warm_up: str, threads: int, model: Path | None
) -> dict[str, float]:
    """One timed pass of the tagger and one of the pipeline over ``notes``, in this process."""
    import torch

    import clinex
    from clinex.extractors.encoder.inference import decode, run_tagger

    torch.set_num_threads(threads)
    engine: Any = clinex.load_extractor("encoder", precision=precision, **({"model": model} if model else {}))

    def tag(note: str) -> None:
        for outputs in run_tagger(
            engine.tagger,
            engine.tokenizer,
            [note],
            max_len=engine.config.max_len,
            overlap=engine.config.overlap,
            batch_size=engine.batch_size,
            bf16=engine.precision == "bf16",
        ):
            decode(outputs)

    # Untimed: the first batch of each shape prepares its kernels, and the first note loads the
    # terminologies and the ConText rules; lookups of the timed notes stay uncached.
    for note in [warm_up, *notes]:
        tag(note)
    clinex.extract(warm_up, extractor=engine)
    start, cpu = time.perf_counter(), time.process_time()
    for note in notes:
        tag(note)
    tagger_s, tagger_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    for note in notes:
        clinex.extract(note, extractor=engine)
    pipeline_s = time.perf_counter() - start
    lengths = window_lengths(engine, notes)
    achieved = model_flops(lengths) / tagger_s
    fp32_ceiling = matmul_ceiling(threads, torch.float32)
    ceiling = matmul_ceiling(threads, torch.bfloat16) if precision == "bf16" else fp32_ceiling
    return {
        "tagger": len(notes) / tagger_s,
        "pipeline": len(notes) / pipeline_s,
        "gflops": achieved / 1e9,
        "ceiling": ceiling / 1e9,
        "fraction": achieved / ceiling,
        "fp32_ceiling": fp32_ceiling / 1e9,
        "fp32_fraction": achieved / fp32_ceiling,
        "cores": tagger_cpu_s / tagger_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # KiB on Linux
        "windows": len(lengths),
    }


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=20, help="timed notes per pass")
    parser.add_argument("--repeats", type=int, default=3, help="processes per variant (median shown)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--letters", type=Path, default=Path("data/synth/letters.jsonl"))
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: the packaged one)")
    parser.add_argument("--worker", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    # The first note only warms up, so that loading and first-call costs stay out of the timing.
    warm_up, *notes = notes_of(args.letters, args.notes + 1)
    if args.worker:
        print(json.dumps(run_variant(args.worker, notes, warm_up, args.threads, args.model)))
        return
    print(format_machine())
    print(f"\n{len(notes)} notes of {WORDS} words, {args.threads} threads, median of {args.repeats} repeats")
    print(f"load average before: {load_average()}\n")
    runs: dict[str, list[dict[str, float]]] = {v: [] for v in args.variants}
    for _ in range(args.repeats):
        for variant in args.variants:
            command = [sys.executable, __file__, "--worker", variant, "--notes", str(args.notes)]
            command += ["--threads", str(args.threads), "--letters", str(args.letters)]
            command += ["--model", str(args.model)] if args.model else []
            out = subprocess.run(command, capture_output=True, text=True)
            if out.returncode:
                sys.exit(f"{variant} failed:\n{out.stderr[-2000:]}")
            runs[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(
        f"{'variant':8} {'tagger':>7} {'pipeline':>8} {'GFLOP/s':>8} {'ceiling':>8} {'of it':>6}"
        f" {'fp32 ceil':>9} {'of it':>6} {'cores':>5} {'peak RSS MB':>12}   (notes/s; ceilings in GFLOP/s)"
    )
    for variant, results in runs.items():
        m = {key: statistics.median(r[key] for r in results) for key in results[0]}
        print(
            f"{variant:8} {m['tagger']:7.2f} {m['pipeline']:8.2f} {m['gflops']:8.1f} {m['ceiling']:8.1f}"
            f" {m['fraction']:6.0%} {m['fp32_ceiling']:9.1f} {m['fp32_fraction']:6.0%} {m['cores']:5.2f}"
            f" {m['peak_rss_mb']:12.0f}"
        )
    print(f"\nwindows per pass: {int(results[0]['windows'])}; load average after: {load_average()}")


if __name__ == "__main__":
    main()
