"""The sampler: encounter windows, roles from dates, distractors that never contradict the record."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from clinex.synth.sampler import SamplerConfig, sample
from clinex.synth.sources import read_sources


@pytest.fixture
def patient(oncology_dir: Path):  # type: ignore[no-untyped-def]
    return read_sources([oncology_dir / "p1.json"])[0][0]


def test_roles_follow_the_record_dates(patient) -> None:  # type: ignore[no-untyped-def]
    seen: dict[str, set[str]] = {}
    for seed in range(200):
        facts = sample(patient, random.Random(seed), letter_id="x")
        for fact in facts.facts:
            seen.setdefault(fact.name, set()).add(fact.role)
    assert seen["pneumonia"] <= {"history", "negated"}  # abated before the stay; pools may rule it out
    assert "history" in seen["pneumonia"]
    assert seen["appendectomy"] == {"history"}  # done decades before the stay
    assert seen["colonoscopy"] == {"active"}  # done during the stay
    assert seen["diabetes mellitus type 2"] == {"active"}


def test_distractors_never_name_an_active_problem_and_staging_comes_from_the_source(patient) -> None:  # type: ignore[no-untyped-def]
    for seed in range(200):
        facts = sample(patient, random.Random(seed), letter_id="x")
        active = {f.code.code for f in facts.facts if f.role == "active" and f.code}
        distractors = {
            f.code.code for f in facts.facts if f.role in {"negated", "family", "hypothetical"} and f.code
        }
        assert not active & distractors
        tumors = [f for f in facts.facts if f.type == "tumor"]
        assert all(t.tumor is not None and (t.tumor.t, t.tumor.n) == ("T3", "N1") for t in tumors)
        assert facts.source_ids[:2] == [patient.id, facts.encounter.id]
        assert facts.age == 68 and facts.sex == "female"


def test_frequencies_are_imputed_only_when_asked(patient) -> None:  # type: ignore[no-untyped-def]
    patient.facts = [f for f in patient.facts if f.name != "lisinopril"] + [
        f.__class__(**{**{k: getattr(f, k) for k in f.__slots__}, "per_day": None})
        for f in patient.facts
        if f.name == "lisinopril"
    ]
    imputed = {
        f.per_day
        for s in range(100)
        for f in sample(patient, random.Random(s), letter_id="x").facts
        if f.name == "lisinopril"
    }
    kept = {
        f.per_day
        for s in range(100)
        for f in sample(
            patient, random.Random(s), letter_id="x", config=SamplerConfig(impute_frequency=False)
        ).facts
        if f.name == "lisinopril"
    }
    assert None not in imputed and len(imputed) > 1
    assert kept == {None}


def test_sampler_config_rejects_rates_outside_0_1() -> None:
    with pytest.raises(ValueError, match="oncology_rate"):
        SamplerConfig(oncology_rate=1.5)
