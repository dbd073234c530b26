"""The monitor's statistics and signals on hand-computed cases."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from clinex.core.systems import ICD10CM
from clinex.core.types import Assertion, Code, Document, Entity
from clinex.monitor.domain import chance_thresholds, domain_signal
from clinex.monitor.estimate import precision_signal
from clinex.monitor.features import note_features
from clinex.monitor.input_drift import input_signals
from clinex.monitor.output_drift import output_signals
from clinex.monitor.run import MonitorReport
from clinex.monitor.sets import MonitorSet
from clinex.monitor.signals import Signal, Thresholds, decide, jensen_shannon, moved
from clinex.text.sections import header_names


def test_decide_needs_both_the_effect_and_the_p_value() -> None:
    t = Thresholds(warn=0.2, alarm=0.3)
    assert decide(0.35, 0.0001, t) == "alarm"
    assert decide(0.35, 0.005, t) == "warn"  # big effect, not rare enough for an alarm
    assert decide(0.35, 0.05, t) == "ok"  # big effect, could be chance
    assert decide(0.25, 0.0001, t) == "warn"
    assert decide(0.1, 1e-9, t) == "ok"  # certain, but trivial
    assert decide(0.5, None, t) == "ok"


def test_jensen_shannon_by_hand() -> None:
    assert jensen_shannon(Counter(a=5), Counter(a=9)) == pytest.approx(0.0)
    assert jensen_shannon(Counter(a=1), Counter(b=1)) == pytest.approx(1.0)
    # P = (1/2, 1/2), Q = (1, 0): M = (3/4, 1/4); JSD = H(M) - (H(P) + H(Q)) / 2
    h_m = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert jensen_shannon(Counter(a=1, b=1), Counter(a=2)) == pytest.approx(h_m - 0.5)
    assert jensen_shannon(Counter(), Counter(a=1)) is None
    rows = moved(Counter(a=3, b=1), Counter(b=4))
    assert rows[0] == {"category": "a", "ref_share": 0.75, "cur_share": 0.0}


def test_header_names_find_known_and_unknown_headers_without_dates() -> None:
    text = "DISCHARGE SUMMARY\nDiagnoses: pneumonia\nBefunde (03/11/2024):\nHb 12.\nhe said: fine\n"
    assert header_names(text) == ["discharge summary", "diagnoses", "befunde (##/##/####)"]


def test_note_features_count_abbreviations_and_tokens() -> None:
    features = note_features("Pt w/ HTN and T2DM, metformin bid.")
    # tokens: Pt w HTN and T2DM metformin bid -> "w/" is not a token without letters after it
    assert features.abbreviations == 4  # pt, HTN, T2DM, bid
    assert features.tokens == 7
    assert features.abbreviation_rate == pytest.approx(4 / 7)


def _doc(i: int, text: str, entities: list[Entity] | None = None, **meta: object) -> Document:
    return Document(id=f"d{i}", text=text, entities=entities or [], meta=dict(meta))


def test_a_header_every_note_gains_is_an_alarm_naming_it() -> None:
    ref = [_doc(i, f"Diagnoses:\nasthma {i}\n") for i in range(30)]
    cur = [_doc(i, f"Diagnoses:\nasthma {i}\nMedikation:\nnone\n") for i in range(30)]
    signals = {s.name: s for s in input_signals([d.id for d in ref], [note_features(d.text) for d in ref],
                                                [d.id for d in cur], [note_features(d.text) for d in cur])}  # fmt: skip
    headers = signals["section_headers"]
    assert headers.status == "alarm"
    assert headers.effect == pytest.approx(1.0)
    assert "new headers: medikation" in headers.detail
    assert headers.examples[0] == {"header": "medikation", "ref_share": 0.0, "cur_share": 1.0}
    assert signals["note_length"].status == "alarm"  # every note grew by 18 characters
    assert signals["abbreviation_rate"].status == "ok"


def _condition(code: str, *, negated: bool = False, confidence: float = 0.9) -> Entity:
    return Entity(
        type="condition",
        text="x",
        start=0,
        end=1,
        code=Code(system=ICD10CM, code=code),
        assertion=Assertion(negated=negated),
        confidence=confidence,
    )


def test_the_icd_chapter_and_assertion_mixes_by_hand() -> None:
    ref = [_doc(i, "x", [_condition("I10"), _condition("E11.9")]) for i in range(40)]
    cur = [_doc(i, "x", [_condition("J44.1", negated=True), _condition("E11.9")]) for i in range(40)]
    signals = {s.name: s for s in output_signals(ref, cur)}
    chapters = signals["icd_chapter_mix"]
    # REF: half I00-I99, half E00-E89; CUR: half J00-J99, half E00-E89 -> JSD = 0.5 (base 2)
    assert chapters.effect == pytest.approx(0.5)
    assert chapters.status == "alarm"
    assert chapters.ref["shares"] == {"I00-I99": 0.5, "E00-E89": 0.5}
    assert {r["category"] for r in chapters.examples[:2]} == {"I00-I99", "J00-J99"}
    # REF all affirmed, CUR half negated: the (1/2, 1/2) against (1, 0) case above
    h_m = -(0.75 * math.log2(0.75) + 0.25 * math.log2(0.25))
    assert signals["assertion_mix"].effect == pytest.approx(h_m - 0.5)
    assert signals["facts_per_note:condition"].status == "ok"  # two facts per note on both sides
    assert signals["llm_parse_failures"].status == "n/a"


def test_llm_parse_failures_are_compared_where_recorded() -> None:
    ref = [_doc(i, "x", extractor_stats={"windows": 10, "failed_windows": 0}) for i in range(20)]
    cur = [_doc(i, "x", extractor_stats={"windows": 10, "failed_windows": 3}) for i in range(20)]
    signal = {s.name: s for s in output_signals(ref, cur)}["llm_parse_failures"]
    assert signal.effect == pytest.approx(0.3)
    assert signal.cur == {"share": 0.3}
    assert signal.status == "alarm"


def test_estimated_precision_is_the_mean_calibrated_confidence() -> None:
    calibrated = {"calibration": {"digest": "sha256:x"}}
    ref = [_doc(i, "x", [_condition("I10", confidence=0.9)] * 3, **calibrated) for i in range(30)]
    cur = [_doc(i, "x", [_condition("I10", confidence=0.6)] * 3, **calibrated) for i in range(30)]
    signal = precision_signal(ref, cur)
    assert signal.ref == {"precision": 0.9} and signal.cur == {"precision": 0.6}
    assert signal.effect == pytest.approx(0.3)
    assert signal.status == "alarm"
    same = precision_signal(ref, ref)
    assert same.status == "ok" and same.effect == pytest.approx(0.0)
    raw = precision_signal([_doc(0, "x", [_condition("I10")])], cur)
    assert raw.status == "n/a" and "confidences are raw" in raw.detail


def test_the_report_status_is_the_worst_signal_and_identity_differences_are_warned() -> None:
    quiet = Signal(name="a", group="input", description="", statistic="", effect=0.0, p_value=1.0,
                   thresholds=Thresholds(0.1, 0.2))  # fmt: skip
    loud = Signal(name="b", group="input", description="", statistic="", effect=0.9, p_value=0.0,
                  thresholds=Thresholds(0.1, 0.2))  # fmt: skip
    report = MonitorReport(ref={}, cur={}, signals=[quiet, loud])
    assert report.status == "alarm" and [s.name for s in report.alarms] == ["b"]
    assert "b moved" in report.verdict()
    assert MonitorReport(ref={}, cur={}, signals=[quiet]).status == "ok"
    one = MonitorSet(name="REF", documents=[_doc(0, "x", extractor="rules.v2")])
    assert one.identity()["extractor"] == "rules.v2"


def test_the_domain_thresholds_rise_to_what_chance_reaches() -> None:
    assert chance_thresholds(0.6) == Thresholds(warn=0.7, alarm=0.8)
    assert chance_thresholds(0.75) == Thresholds(warn=0.75, alarm=0.8)
    assert chance_thresholds(0.9) == Thresholds(warn=0.9, alarm=0.9)


def test_the_domain_classifier_tells_two_vocabularies_apart_and_not_one() -> None:
    words = ["pain", "fever", "cough", "rash", "nausea", "fatigue", "dizziness", "swelling"]
    ref = [f"Patient reports {words[i % 8]} and {words[(i + 3) % 8]} today." for i in range(30)]
    cur = [f"Pt c/o {words[i % 8]} w/ {words[(i + 5) % 8]} x2d." for i in range(30)]
    ids = [f"n{i}" for i in range(30)]
    apart = domain_signal(ids, ref, ids, cur, permutations=10)
    assert apart.effect == pytest.approx(1.0) and apart.status == "alarm"
    assert "terms of CUR: " in apart.detail and "pt" in apart.detail
    alike = domain_signal(ids, ref[:15] + cur[:15], ids, ref[15:] + cur[15:], permutations=10)
    assert alike.status == "ok" and alike.effect is not None and alike.effect < 0.8
    few = domain_signal(ids[:5], ref[:5], ids[:5], cur[:5])
    assert few.status == "n/a" and "fewer than 10" in few.detail
