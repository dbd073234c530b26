"""Drift on constructed shifts: same-distribution pairs stay quiet, each shift raises its alarm."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from clinex.core.types import Document
from clinex.monitor import MonitorSet, monitor
from clinex.monitor.run import MonitorReport
from clinex.testing import abbreviated, new_site_headers

SIDE = 40
PERMUTATIONS = 5


def _run(ref: list[Document], cur: list[Document], seed: int = 0) -> MonitorReport:
    return monitor(
        MonitorSet(name="REF", documents=ref),
        MonitorSet(name="CUR", documents=cur),
        permutations=PERMUTATIONS,
        seed=seed,
    )


def _status(report: MonitorReport) -> dict[str, str]:
    return {s.name: s.status for s in report.signals}


@pytest.fixture(scope="module")
def pool(letters, extract_rules) -> list[Document]:
    return extract_rules(letters["train"])


def test_same_distribution_pairs_raise_an_alarm_at_most_once_in_20(pool: list[Document]) -> None:
    alarmed = []
    for seed in range(20):
        picks = random.Random(seed).sample(pool, 2 * SIDE)
        report = _run(picks[:SIDE], picks[SIDE:], seed=seed)
        if report.status == "alarm":
            alarmed.append((seed, [s.name for s in report.alarms]))
    assert len(alarmed) <= 1, alarmed


def test_a_new_letter_layout_raises_the_layout_alarms(pool, letters, extract_rules) -> None:
    cur = extract_rules(letters["test"][:SIDE], prefix="new-")
    status = _status(_run(pool[:SIDE], cur))
    assert status["section_headers"] == "alarm"
    assert status["domain_classifier"] == "alarm"


def test_an_abbreviation_heavy_style_raises_the_abbreviation_alarm(pool, letters, extract_rules) -> None:
    records = letters["train"][SIDE : 2 * SIDE]
    shifted = extract_rules([{**r, "text": abbreviated(r["text"])} for r in records], prefix="abbr-")
    report = _run(pool[:SIDE], shifted)
    status = _status(report)
    assert status["abbreviation_rate"] == "alarm"
    # The same notes unabbreviated: quiet on that signal, so it is the style that moved it.
    plain = _status(_run(pool[:SIDE], extract_rules(records, prefix="plain-")))
    assert plain["abbreviation_rate"] == "ok"


def test_a_new_sites_section_headers_raise_the_header_alarm(pool, letters, extract_rules) -> None:
    records = letters["train"][SIDE : 2 * SIDE]
    shifted = extract_rules([{**r, "text": new_site_headers(r["text"])} for r in records], prefix="site-")
    report = _run(pool[:SIDE], shifted)
    signal = next(s for s in report.signals if s.name == "section_headers")
    assert signal.status == "alarm"
    assert "new headers:" in signal.detail and "medikation" in signal.detail
    assert "vanished headers:" in signal.detail
    assert _status(report)["abbreviation_rate"] == "ok"


def test_case_reports_against_letters_raise_the_domain_alarm(pool, extract_rules, shared_data: Path) -> None:
    notes = sorted((shared_data / "codiesp" / "dev" / "text_files_en").glob("*.txt"))[:SIDE]
    cur = extract_rules([{"id": p.stem, "text": p.read_text(encoding="utf-8")} for p in notes])
    report = _run(pool[:SIDE], cur)
    status = _status(report)
    assert status["domain_classifier"] == "alarm"
    assert status["section_headers"] == "alarm"  # case reports have no headers
    assert report.status == "alarm"
