"""Seconds per MB of ``clinex.extract`` with the default extractor on long notes, per stage.

    .venv/bin/python benchmarks/long_notes.py [--sizes 20000 200000 2000000] [--repeats 3]
        [--variants plain headers] [--threads 2]

Each note is a realistic 100-character clinical sentence (a medication with dose, route and
frequency, a condition, a lab value with unit and date, a negated finding: every stage has work)
repeated to the size asked; the ``headers`` variant puts it two lines at a time under section
headers (five kinds, one unknown to the section rules), so sections and header blanking have work
too. Every stage should be near-linear in the note's length: the table gives seconds per MB
(10^6 characters) at each size and the ratio of the largest note's to the smallest's, measured in
the same run (the target is a total within 1.5x).

The stages are timed inside one real ``clinex.extract`` call: each stage function is wrapped by
a timer that counts its own time, less that of the stages it calls (the encoder's subterm
splitting runs inside its span step). Sizes run smallest first within each repeat, after an
untimed warm-up note.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import format_machine

SENTENCE = (
    "Metformin 1000 mg orally twice daily for type 2 diabetes; HbA1c 8.4 % on 03/11/2024. No chest pain.\n"
)
#: Section headers of the ``headers`` variant: four the section rules know, one they do not.
HEADERS = ("Medications:", "Past medical history:", "Family history:", "Ward round:", "Plan:")
#: Variant name → the text repeated to make a note of it.
VARIANTS = {
    "plain": SENTENCE,
    "headers": "".join(f"{header}\n{SENTENCE}{SENTENCE}" for header in HEADERS),
}
#: Stage name → (module or class, attribute) of the function the pipeline calls for it.
STAGES = {
    "encoder: tokenise + tag": ("clinex.extractors.encoder.extractor:EncoderExtractor", "_run"),
    "encoder: decode (Viterbi)": ("clinex.extractors.encoder.extractor", "decode"),
    "encoder: spans, linking": ("clinex.extractors.encoder.extractor:EncoderExtractor", "_entities"),
    "encoder: subterms": ("clinex.extractors.encoder.extractor:EncoderExtractor", "_split"),
    "grounding check": ("clinex.pipeline", "check_grounding"),
    "preprocess": ("clinex.text.structure", "prepare"),
    "assertion": ("clinex.assertion.assertor", "assert_entities"),
    "normalise": ("clinex.terminology.normalise", "normalise"),
    "filter": ("clinex.pipeline", "merge_duplicates"),
}
OTHER, TOTAL = "other", "total: clinex.extract"
#: Note sizes in characters: 20 kB, 200 kB and 2 MB.
SIZES = (20_000, 200_000, 2_000_000)


class StageClock:
    """Seconds spent in each wrapped function, less the time of wrapped functions it called."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(STAGES, 0.0)
        self._inner: list[float] = []

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._inner.append(0.0)
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                self.seconds[name] += elapsed - self._inner.pop()
                if self._inner:
                    self._inner[-1] += elapsed

        return timed

    @contextlib.contextmanager
    def timing(self) -> Iterator[StageClock]:
        with contextlib.ExitStack() as stack:
            for name, (where, attribute) in STAGES.items():
                module, _, cls = where.partition(":")
                owner = (
                    getattr(importlib.import_module(module), cls) if cls else importlib.import_module(module)
                )
                stack.enter_context(
                    mock.patch.object(owner, attribute, self.wrap(name, getattr(owner, attribute)))
                )
            yield self


def build_note(unit: str, size: int) -> str:
    """``unit`` repeated to about ``size`` characters."""
    return unit * max(1, round(size / len(unit)))


def time_note(note: str, engine: Any) -> dict[str, float]:
    """Seconds of each stage, of the rest and of the whole ``clinex.extract`` on ``note``; the
    note's characters and the entities found."""
    import clinex

    clock = StageClock()
    with clock.timing():
        start = time.perf_counter()
        document = clinex.extract(note, extractor=engine)
        total = time.perf_counter() - start
    other = total - sum(clock.seconds.values())
    return {
        **clock.seconds,
        OTHER: other,
        TOTAL: total,
        "chars": len(note),
        "entities": len(document.entities),
    }


def size_label(chars: int) -> str:
    return f"{chars / 1e6:g} MB" if chars >= 1_000_000 else f"{chars / 1e3:g} kB"


def table(variant: str, runs: dict[int, list[dict[str, float]]]) -> str:
    """Median seconds per MB of each stage at each note size, and largest / smallest."""
    sizes = sorted(runs)
    smallest, largest = sizes[0], sizes[-1]
    per_mb = {
        size: {key: [r[key] / r["chars"] * 1e6 for r in runs[size]] for key in runs[size][0]}
        for size in sizes
    }
    peer = f"{size_label(largest)} / {size_label(smallest)}"
    lines = [
        f"{variant}: a {len(VARIANTS[variant])}-character text repeated",
        f"{'seconds per MB':<28}" + "".join(f"{size_label(s):>10}" for s in sizes) + f"{peer:>16}",
    ]
    for key in [*STAGES, OTHER, TOTAL]:
        medians = [statistics.median(per_mb[s][key]) for s in sizes]
        ratio = f"{medians[-1] / medians[0]:.2f}" if medians[0] > 0 else "-"
        lines.append(f"{key:<28}" + "".join(f"{m:>10.2f}" for m in medians) + f"{ratio:>16}")
    for key in ("chars", "entities"):
        lines.append(f"{key:<28}" + "".join(f"{int(runs[s][0][key]):>10}" for s in sizes))
    each = [
        big[TOTAL] / big["chars"] / (small[TOTAL] / small["chars"])
        for small, big in zip(runs[smallest], runs[largest], strict=True)
    ]
    lines.append(f"total {peer} in each repeat: {', '.join(f'{r:.2f}' for r in each)} (target: at most 1.5)")
    return "\n".join(lines)


def report(sizes: list[int], *, repeats: int, variants: list[str], threads: int) -> str:
    """The tables of every variant, each size timed ``repeats`` times (smallest first in each
    repeat, after an untimed warm-up note)."""
    import torch

    import clinex

    torch.set_num_threads(threads)
    engine: Any = clinex.load_extractor()
    parts = [
        f"clinex.extract with the default extractor ({engine.name}, precision {engine.precision}),"
        f" {threads} torch threads; median of {repeats} repeats; 1 MB = 10^6 characters\n"
        f"plain: {SENTENCE.strip()!r} repeated; headers: two such sentences under each of"
        f" {', '.join(HEADERS)}, repeated"
    ]
    for variant in variants:
        unit = VARIANTS[variant]
        clinex.extract(build_note(unit, 2_000), extractor=engine)  # models, rules, terminologies
        runs: dict[int, list[dict[str, float]]] = {size: [] for size in sorted(set(sizes))}
        for _ in range(repeats):
            for size, results in runs.items():
                results.append(time_note(build_note(unit, size), engine))
        parts.append(table(variant, runs))
    return "\n\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="note sizes in characters")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each note (median shown)")
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    args = parser.parse_args()
    if args.repeats < 1 or min(args.sizes) < 1:
        parser.error("--repeats and --sizes must be at least 1")
    print(format_machine() + "\n")
    print(report(args.sizes, repeats=args.repeats, variants=args.variants, threads=args.threads))


if __name__ == "__main__":
    main()
