"""The model shipped inside the package: intact, loadable, and extracting from a letter."""

from __future__ import annotations

import json
from pathlib import Path

import clinex
from clinex.extractors.encoder.model import CHECKSUM_FILE, PACKAGED_MODEL_DIR, WEIGHTS_FILE, sha256_of
from clinex.testing import assert_grounded

LETTER = (
    "DISCHARGE SUMMARY\n\nPRINCIPAL DIAGNOSES\n• Essential hypertension\n\n"
    "Medications:\n• Metformin 500 mg orally twice daily\n\n"
    "Labs:\n• Hemoglobin 13.1 g/dL\n"
)


def test_packaged_weights_match_their_checksum_and_fit_the_size_budget() -> None:
    weights = PACKAGED_MODEL_DIR / WEIGHTS_FILE
    assert (PACKAGED_MODEL_DIR / CHECKSUM_FILE).read_text().split()[0] == sha256_of(weights)
    assert weights.stat().st_size <= 25 * 2**20
    metrics = json.loads((PACKAGED_MODEL_DIR / "metrics.json").read_text())
    assert metrics["sha256"] == sha256_of(weights)
    assert (PACKAGED_MODEL_DIR / "MODEL_CARD.md").read_text().count(metrics["sha256"]) == 1


def test_default_encoder_extracts_grounded_entities_with_attributes() -> None:
    extractor = clinex.load_extractor("encoder", retrieval=False, threads=1)
    # Grounding on the extractor's own output: clinex.extract refuses a bad span before a test
    # could see it. One entity per line of the letter.
    assert_grounded(LETTER, extractor.extract(LETTER), min_count=3)
    doc = clinex.extract(LETTER, extractor=extractor)
    assert doc.meta["extractor"] == "encoder.v2"
    by_type = {e.type: e for e in doc.entities}
    assert by_type["medication"].text == "Metformin"
    assert by_type["medication"].attributes.get("dose") == "500 mg"
    assert by_type["lab"].attributes.get("value") == "13.1"
    assert all(0.0 <= e.confidence <= 1.0 for e in doc.entities)


def test_a_tumour_carries_its_stage_grade_and_its_own_words_as_histology() -> None:
    text = "Summary:\nThe man was admitted on 27 Oct 1995. Pathology: adenocarcinoma, T2 N0 M0; G1.\n"
    doc = clinex.extract(text, extractor=clinex.load_extractor("encoder", retrieval=False, threads=1))
    tumours = [e for e in doc.entities if e.type == "tumor"]
    assert [t.text for t in tumours] == ["adenocarcinoma"]
    attributes = tumours[0].attributes
    assert (attributes.get("histology"), attributes.get("tnm"), attributes.get("grade")) == (
        "adenocarcinoma",
        "T2 N0 M0",
        "G1",
    )
    bundle = doc.to_fhir()
    histology = [
        r["resource"]
        for r in bundle["entry"]
        if r["resource"]["resourceType"] == "Observation"
        and any(c.get("code") == "59847-4" for c in r["resource"]["code"]["coding"])
    ]
    assert [h["valueCodeableConcept"]["text"] for h in histology] == ["adenocarcinoma"]


def test_demo_letter_attributes_are_whole_and_hyphenated_names_complete() -> None:
    text = (Path(__file__).resolve().parents[2] / "examples" / "discharge_letter.txt").read_text(
        encoding="utf-8"
    )
    doc = clinex.extract(text, extractor=clinex.load_extractor("encoder", retrieval=False, threads=1))
    first = {e.text: e for e in reversed(doc.entities)}
    assert first["Atorvastatin"].attributes.get("frequency") == "at night"
    assert "night" not in first, "a frequency word became a medication"
    assert first["Salbutamol"].attributes.get("frequency") == "every 4 hours"
    assert "frequency" not in first["salbutamol"].attributes, "'five-day course' gave a frequency 'day'"
    assert first["C-reactive protein"].type == "lab"
    assert all(e.attributes.get("date") != "38.9" for e in doc.entities), "a temperature became a date"
