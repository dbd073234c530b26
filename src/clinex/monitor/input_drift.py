"""Signals on the notes themselves: length, abbreviations, unknown words, section headers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from statistics import median
from typing import Any

from clinex.monitor.features import NoteFeatures
from clinex.monitor.signals import Signal, Thresholds, ks

#: KS statistic thresholds for per-note distributions.
DISTRIBUTION = Thresholds(warn=0.2, alarm=0.3)
#: Largest change in the share of notes that carry a header.
HEADERS = Thresholds(warn=0.2, alarm=0.35)


def _distribution(
    name: str,
    description: str,
    ref_ids: Sequence[str],
    ref: Sequence[float],
    cur_ids: Sequence[str],
    cur: Sequence[float],
    *,
    digits: int = 4,
) -> Signal:
    effect, p_value = ks(ref, cur)
    centre = median(ref) if ref else 0.0
    farthest = sorted(zip(cur_ids, cur, strict=True), key=lambda pair: -abs(pair[1] - centre))[:5]
    return Signal(
        name=name,
        group="input",
        description=description,
        statistic="Kolmogorov–Smirnov D",
        effect=effect,
        p_value=p_value,
        thresholds=DISTRIBUTION,
        ref={"median": round(centre, digits), "notes": len(ref)},
        cur={"median": round(median(cur), digits) if cur else None, "notes": len(cur)},
        examples=[
            {"id": i, "value": round(v, digits), "ref_median": round(centre, digits)} for i, v in farthest
        ],
    )


def input_signals(
    ref_ids: Sequence[str], ref: Sequence[NoteFeatures], cur_ids: Sequence[str], cur: Sequence[NoteFeatures]
) -> list[Signal]:
    signals = [
        _distribution(
            "note_length",
            "characters per note",
            ref_ids,
            [f.length for f in ref],
            cur_ids,
            [f.length for f in cur],
            digits=0,
        ),
        _distribution(
            "abbreviation_rate",
            "share of tokens that are abbreviations (HTN, bid, s/p ...)",
            ref_ids,
            [f.abbreviation_rate for f in ref],
            cur_ids,
            [f.abbreviation_rate for f in cur],
        ),
    ]
    if any(f.words for f in (*ref, *cur)):
        signals.append(
            _distribution(
                "unknown_word_rate",
                "share of words (3+ letters) that are not whole words of the encoder's vocabulary",
                ref_ids,
                [f.unknown_rate for f in ref],
                cur_ids,
                [f.unknown_rate for f in cur],
            )
        )
    else:
        signals.append(
            Signal.untested(
                "unknown_word_rate",
                "input",
                "share of words that are not in the encoder's vocabulary",
                "Kolmogorov–Smirnov D",
                "the encoder model package is not installed: no vocabulary to check against",
            )
        )
    signals.append(_headers(ref_ids, ref, cur_ids, cur))
    return signals


def _headers(
    ref_ids: Sequence[str], ref: Sequence[NoteFeatures], cur_ids: Sequence[str], cur: Sequence[NoteFeatures]
) -> Signal:
    """Which headers notes carry: the largest change in the share of notes with one header,
    tested with Fisher's exact test, Bonferroni-corrected over the headers compared."""
    from scipy.stats import fisher_exact

    ref_counts = Counter(h for f in ref for h in f.headers)
    cur_counts = Counter(h for f in cur for h in f.headers)
    # Headers of at least 5 % of one side's notes (or 3 notes): rare ones say little.
    headers = [
        h
        for h in set(ref_counts) | set(cur_counts)
        if max(ref_counts[h] / len(ref), cur_counts[h] / len(cur)) >= 0.05
        and ref_counts[h] + cur_counts[h] >= 3
    ]
    rows: list[dict[str, Any]] = []
    for h in headers:
        ref_share, cur_share = ref_counts[h] / len(ref), cur_counts[h] / len(cur)
        rows.append({"header": h, "ref_share": round(ref_share, 3), "cur_share": round(cur_share, 3)})
    rows.sort(key=lambda r: (-abs(r["cur_share"] - r["ref_share"]), r["header"]))
    new = [r["header"] for r in rows if r["ref_share"] == 0 and r["cur_share"] >= 0.1]
    vanished = [r["header"] for r in rows if r["cur_share"] == 0 and r["ref_share"] >= 0.1]
    effect = p_value = None
    if rows:
        top = rows[0]["header"]
        table = [[ref_counts[top], len(ref) - ref_counts[top]], [cur_counts[top], len(cur) - cur_counts[top]]]
        effect = abs(rows[0]["cur_share"] - rows[0]["ref_share"])
        p_value = min(1.0, float(fisher_exact(table).pvalue) * len(rows))
    detail = ""
    if new:
        detail += f"new headers: {', '.join(new[:8])}. "
    if vanished:
        detail += f"vanished headers: {', '.join(vanished[:8])}."
    return Signal(
        name="section_headers",
        group="input",
        description="section headers notes carry (largest change in the share of notes with a header)",
        statistic="max |share CUR − share REF|",
        effect=effect,
        p_value=p_value,
        thresholds=HEADERS,
        ref={"headers": len([h for h in headers if ref_counts[h]]), "notes": len(ref_ids)},
        cur={"headers": len([h for h in headers if cur_counts[h]]), "notes": len(cur_ids)},
        detail=detail.strip(),
        examples=rows[:10],
    )
