"""Measure the similarity threshold of ``clinex align``'s embedding search on CodiEsp *train*.

For each code of a note that no lexical method finds, the best MiniLM similarity between the
code's own names and the note's candidate phrases is taken in its own note and in a foreign
note (the next note in the file not coded with the code nor with its 3-character category).
A threshold's *false evidence rate* is the share of codes reaching it in the foreign note; its
*own rate* the share reaching it in their own note. The threshold shipped is the lowest at which
the false rate is at most 5%; the own-rate minus the false rate estimates the true evidence found.

    .venv/bin/python benchmarks/align_threshold.py --notes 120

CodiEsp train may be trained and tuned on (dev is evaluation only).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from clinex.align.coded import read_tsv_codes
from clinex.align.evidence import find_evidence, names_of
from clinex.align.similar import SimilaritySearch, candidates
from clinex.align.systems import NAMES
from clinex.align.text import NoteWords
from clinex.extractors.encoder.retrieval import SentenceEmbedder

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "codiesp" / "train"
MAX_FALSE_RATE = 0.05


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=int, default=120, help="CodiEsp train notes to use")
    args = parser.parse_args()
    started = time.perf_counter()
    facts, _ = read_tsv_codes(DATA / "trainD.tsv", system=NAMES["icd10cm"])
    by_note: dict[str, list[str]] = defaultdict(list)
    for fact in facts:
        if fact.code not in by_note[fact.note_id]:
            by_note[fact.note_id].append(fact.code)
    ids = [i for i in sorted(by_note) if (DATA / "text_files_en" / f"{i}.txt").is_file()][: args.notes]
    words = {i: NoteWords((DATA / "text_files_en" / f"{i}.txt").read_text(encoding="utf-8")) for i in ids}
    phrases = {i: candidates(w) for i, w in words.items()}
    search = SimilaritySearch(SentenceEmbedder())
    own: list[float] = []
    foreign: list[float] = []
    for position, note_id in enumerate(ids):
        for code in by_note[note_id]:
            names = names_of(NAMES["icd10cm"], code, None)
            if names is None or find_evidence(words[note_id], names):
                continue
            texts = [n.text for n in names if n.level == 0]
            other = next(
                o
                for o in ids[position + 1 :] + ids[:position]
                if not any(c[:3] == code[:3] for c in by_note[o])
            )
            own.append(
                max((s for *_, s in search.best(words[note_id], phrases[note_id], texts)), default=0.0)
            )
            foreign.append(
                max((s for *_, s in search.best(words[other], phrases[other], texts)), default=0.0)
            )
    own_a, foreign_a = np.array(own), np.array(foreign)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs; notes {len(ids)}; codes without lexical evidence {len(own)}"
    )
    print(f"{'threshold':>9} {'own rate':>9} {'false rate':>10}")
    chosen = None
    for threshold in np.arange(0.5, 0.96, 0.025):
        own_rate = float((own_a >= threshold).mean())
        false_rate = float((foreign_a >= threshold).mean())
        print(f"{threshold:9.3f} {own_rate:9.3f} {false_rate:10.3f}")
        if chosen is None and false_rate <= MAX_FALSE_RATE:
            chosen = round(float(threshold), 3)
    print(
        f"lowest threshold with false rate <= {MAX_FALSE_RATE}: {chosen}; {time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
