"""Encoder extractor throughput on 400-word notes, against this machine's fp32 matmul ceiling.

    .venv/bin/python benchmarks/encoder_speed.py [--notes 40] [--threads 2] [--letters data/synth/letters.jsonl]

Each variant (fp32, int8 dynamic quantisation) runs in its own process so that its peak RSS is
its own. The FLOP count is the model's matmul work on the windows actually run; the ceiling is a
large fp32 matmul timed in the same process with the same threads. Never asserted: a benchmark
prints a table and the machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import format_machine

WORDS = 400


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


def matmul_ceiling(threads: int, size: int = 2048, repeats: int = 10) -> float:
    """Best fp32 FLOP/s of a size×size matmul on ``threads`` threads."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
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


def run_variant(quantize: bool, notes: list[str], threads: int, model: Path | None) -> dict[str, float]:
    import torch

    from clinex.extractors.encoder import EncoderExtractor
    from clinex.extractors.encoder.windows import make_windows

    torch.set_num_threads(threads)
    extractor = EncoderExtractor(model=model, quantize=quantize, threads=threads, coding=False)
    extractor.extract_batch(notes[:4])  # warm-up
    lengths = [
        w.end - w.start + 2
        for e in extractor.tokenizer.encode_batch(notes, add_special_tokens=False)
        for w in make_windows(len(e.ids), max_len=extractor.config.max_len, overlap=extractor.config.overlap)
    ]
    start = time.perf_counter()
    extractor.extract_batch(notes)
    seconds = time.perf_counter() - start
    ceiling = matmul_ceiling(threads)
    achieved = model_flops(lengths) / seconds
    return {
        "notes_per_s": len(notes) / seconds,
        "gflops": achieved / 1e9,
        "ceiling_gflops": ceiling / 1e9,
        "fraction": achieved / ceiling,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "windows": len(lengths),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--letters", type=Path, default=Path("data/synth/letters.jsonl"))
    parser.add_argument("--model", type=Path, default=None, help="model folder (default: the packaged one)")
    parser.add_argument("--variant", choices=["fp32", "int8"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    notes = notes_of(args.letters, args.notes)
    if args.variant:
        print(json.dumps(run_variant(args.variant == "int8", notes, args.threads, args.model)))
        return
    print(format_machine())
    print(f"\n{len(notes)} notes of {WORDS} words, {args.threads} threads\n")
    print(f"{'variant':8} {'notes/s':>8} {'GFLOP/s':>8} {'ceiling':>8} {'fraction':>8} {'peak RSS MB':>12}")
    for variant in ("fp32", "int8"):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--variant",
                variant,
                "--notes",
                str(args.notes),
                "--threads",
                str(args.threads),
                "--letters",
                str(args.letters),
                *(["--model", str(args.model)] if args.model else []),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"{variant:8} {r['notes_per_s']:8.2f} {r['gflops']:8.1f} {r['ceiling_gflops']:8.1f} "
            f"{r['fraction']:8.0%} {r['peak_rss_mb']:12.0f}"
        )


if __name__ == "__main__":
    main()
