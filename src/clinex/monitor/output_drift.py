"""Signals on what was extracted: facts per note, code and assertion mixes, grounding, confidence."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from clinex.core.systems import ICD10CM
from clinex.core.types import ENTITY_TYPES, Document, Entity
from clinex.monitor.signals import Signal, Thresholds, chi_square, jensen_shannon, ks, moved, shares
from clinex.terminology.icd10cm import chapter

#: KS statistic thresholds for facts per note and for confidences.
DISTRIBUTION = Thresholds(warn=0.2, alarm=0.3)
#: Jensen–Shannon divergence thresholds for category mixes.
MIX = Thresholds(warn=0.05, alarm=0.1)
#: Change in the share of facts not found exactly in the note.
GROUNDING = Thresholds(warn=0.05, alarm=0.1)


def output_signals(ref: Sequence[Document], cur: Sequence[Document]) -> list[Signal]:
    present = [t for t in ENTITY_TYPES if any(e.type == t for d in (*ref, *cur) for e in d.entities)]
    signals = [_facts_per_note(t, ref, cur) for t in present]
    signals.append(
        _mix(
            "icd_chapter_mix",
            "ICD-10-CM chapters of the coded conditions",
            Counter(c for d in ref for e in d.entities if (c := _chapter(e))),
            Counter(c for d in cur for e in d.entities if (c := _chapter(e))),
        )
    )
    signals.append(
        _mix(
            "assertion_mix",
            "assertion classes of the facts (affirmed, negated, historical, family, uncertain, hypothetical)",
            Counter(_assertion(e) for d in ref for e in d.entities),
            Counter(_assertion(e) for d in cur for e in d.entities),
        )
    )
    signals.append(_grounding(ref, cur))
    signals.append(_llm_failures(ref, cur))
    signals += [_confidence(t, ref, cur) for t in present]
    return signals


def _chapter(entity: Entity) -> str | None:
    code = entity.code
    if entity.type != "condition" or code is None or code.system != ICD10CM:
        return None
    return chapter(code.code)


def _assertion(entity: Entity) -> str:
    names = entity.assertion.names()
    return names[0] if names else "affirmed"


def _facts_per_note(entity_type: str, ref: Sequence[Document], cur: Sequence[Document]) -> Signal:
    def counts(docs: Sequence[Document]) -> list[float]:
        return [float(sum(1 for e in d.entities if e.type == entity_type)) for d in docs]

    ref_counts, cur_counts = counts(ref), counts(cur)
    effect, p_value = ks(ref_counts, cur_counts)
    ref_mean = sum(ref_counts) / len(ref_counts)
    farthest = sorted(zip((d.id for d in cur), cur_counts, strict=True), key=lambda p: -abs(p[1] - ref_mean))[
        :5
    ]
    return Signal(
        name=f"facts_per_note:{entity_type}",
        group="output",
        description=f"{entity_type} facts per note",
        statistic="Kolmogorov–Smirnov D",
        effect=effect,
        p_value=p_value,
        thresholds=DISTRIBUTION,
        ref={"mean": round(ref_mean, 3)},
        cur={"mean": round(sum(cur_counts) / len(cur_counts), 3)},
        examples=[{"id": i, "facts": int(n), "ref_mean": round(ref_mean, 2)} for i, n in farthest],
    )


def _mix(name: str, description: str, ref: Counter[str], cur: Counter[str]) -> Signal:
    effect = jensen_shannon(ref, cur)
    return Signal(
        name=name,
        group="output",
        description=description,
        statistic="Jensen–Shannon divergence",
        effect=effect,
        p_value=chi_square(ref, cur) if effect is not None else None,
        thresholds=MIX if effect is not None else None,
        ref={"facts": sum(ref.values()), "shares": shares(ref)},
        cur={"facts": sum(cur.values()), "shares": shares(cur)},
        detail="" if effect is not None else "nothing to compare on one side",
        examples=moved(ref, cur),
    )


def _grounding(ref: Sequence[Document], cur: Sequence[Document]) -> Signal:
    def counts(docs: Sequence[Document]) -> Counter[str]:
        return Counter(
            "exact" if e.alignment == "exact" else "fuzzy or none" for d in docs for e in d.entities
        )

    ref_counts, cur_counts = counts(ref), counts(cur)
    ref_share = ref_counts["fuzzy or none"] / max(1, sum(ref_counts.values()))
    cur_share = cur_counts["fuzzy or none"] / max(1, sum(cur_counts.values()))
    p_value = chi_square(ref_counts, cur_counts)
    examples = [
        {"id": d.id, "type": e.type, "start": e.start, "end": e.end, "alignment": e.alignment}
        for d in cur
        for e in d.entities
        if e.alignment != "exact"
    ][:5]
    return Signal(
        name="ungrounded_share",
        group="output",
        description="share of facts found only fuzzily in the note, or not at all",
        statistic="|share CUR − share REF|",
        effect=abs(cur_share - ref_share) if sum(ref_counts.values()) and sum(cur_counts.values()) else None,
        p_value=p_value,
        thresholds=GROUNDING,
        ref={"share": round(ref_share, 4)},
        cur={"share": round(cur_share, 4)},
        examples=examples,
    )


def _llm_failures(ref: Sequence[Document], cur: Sequence[Document]) -> Signal:
    """Windows whose LLM answer could not be parsed, where the predictions record them
    (``Document.meta["extractor_stats"]``: ``windows``, ``failed_windows``)."""

    def totals(docs: Sequence[Document]) -> Counter[str] | None:
        found = [d.meta["extractor_stats"] for d in docs if isinstance(d.meta.get("extractor_stats"), dict)]
        found = [m for m in found if "windows" in m]
        if not found:
            return None
        failed = sum(int(m.get("failed_windows", 0)) for m in found)
        windows = sum(int(m.get("windows", 0)) for m in found)
        return Counter({"failed": failed, "parsed": max(0, windows - failed)})

    ref_counts, cur_counts = totals(ref), totals(cur)
    description = "share of LLM answers that could not be parsed"
    if ref_counts is None or cur_counts is None:
        return Signal.untested(
            "llm_parse_failures",
            "output",
            description,
            "|share CUR − share REF|",
            "the predictions record no LLM answers (not an llm extractor's output)",
        )
    ref_share = ref_counts["failed"] / max(1, sum(ref_counts.values()))
    cur_share = cur_counts["failed"] / max(1, sum(cur_counts.values()))
    return Signal(
        name="llm_parse_failures",
        group="output",
        description=description,
        statistic="|share CUR − share REF|",
        effect=abs(cur_share - ref_share),
        p_value=chi_square(ref_counts, cur_counts),
        thresholds=GROUNDING,
        ref={"share": round(ref_share, 4)},
        cur={"share": round(cur_share, 4)},
    )


def _confidence(entity_type: str, ref: Sequence[Document], cur: Sequence[Document]) -> Signal:
    ref_values = [e.confidence for d in ref for e in d.entities if e.type == entity_type]
    cur_facts = [(d.id, e) for d in cur for e in d.entities if e.type == entity_type]
    effect, p_value = ks(ref_values, [e.confidence for _, e in cur_facts])
    lowest = sorted(cur_facts, key=lambda pair: pair[1].confidence)[:5]
    examples: list[dict[str, Any]] = [
        {"id": i, "type": e.type, "start": e.start, "end": e.end, "confidence": e.confidence}
        for i, e in lowest
    ]
    return Signal(
        name=f"confidence:{entity_type}",
        group="output",
        description=f"confidence of {entity_type} facts",
        statistic="Kolmogorov–Smirnov D",
        effect=effect,
        p_value=p_value,
        thresholds=DISTRIBUTION if effect is not None else None,
        ref=_histogram(ref_values),
        cur=_histogram([e.confidence for _, e in cur_facts]),
        examples=examples,
    )


def _histogram(values: Sequence[float], bins: int = 10) -> dict[str, Any]:
    counts = [0] * bins
    for v in values:
        counts[min(int(v * bins), bins - 1)] += 1
    return {"facts": len(values), "histogram": counts}
