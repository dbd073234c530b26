"""The llm extractor's counters per note reach Document.meta, the JSONL record and the Bundle."""

from __future__ import annotations

import json

import clinex
from clinex.extractors.llm import LLMExtractor
from clinex.fhir.parse import bundle_to_document
from clinex.testing import ScriptedBackend

GOOD = json.dumps({"entities": [{"type": "condition", "text": "asthma"}]})


def test_each_note_records_its_own_windows_and_failures() -> None:
    # Note 1: an answer that cannot be parsed, twice (retried once, then the window fails);
    # note 2: a good answer at once.
    extractor = LLMExtractor(backend=ScriptedBackend(["not json", "still not json", GOOD]))
    first = clinex.extract("Known asthma.", extractor=extractor, id="n1", calibration="none")
    second = clinex.extract("Known asthma.", extractor=extractor, id="n2", calibration="none")
    assert first.meta["extractor_stats"]["windows"] == 1
    assert first.meta["extractor_stats"]["failed_windows"] == 1
    assert first.meta["extractor_stats"]["retried"] == 1
    assert first.entities == []
    assert second.meta["extractor_stats"].get("failed_windows", 0) == 0  # counted only when it happens
    assert second.meta["extractor_stats"]["calls"] == 1
    assert [e.text for e in second.entities] == ["asthma"]
    # The process-wide counters add the notes up.
    assert extractor.stats["failed_windows"] == 1 and extractor.stats["calls"] == 3
    # JSONL keeps them; the Bundle keeps them on the Provenance, not in the run's shared Device.
    assert first.to_dict()["meta"]["extractor_stats"] == first.meta["extractor_stats"]
    bundles = [doc.to_fhir() for doc in (first, second)]
    devices = [
        e["resource"] for b in bundles for e in b["entry"] if e["resource"]["resourceType"] == "Device"
    ]
    assert devices[0]["id"] == devices[1]["id"]
    assert (
        bundle_to_document(bundles[0], default_id="n1").meta["extractor_stats"]
        == first.meta["extractor_stats"]
    )


def test_an_extractor_without_note_stats_records_none() -> None:
    doc = clinex.extract("Known asthma.", extractor="rules")
    assert "extractor_stats" not in doc.meta
