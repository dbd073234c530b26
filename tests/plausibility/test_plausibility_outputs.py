"""Findings in every output: Document.meta["checks"] from clinex.extract with the rules extractor,
the JSONL record, the FHIR Bundle (validated), the batch summary and the CLI's summary table."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import clinex
from clinex.batch import BatchSummary, NoteOutcome
from clinex.cli.app import app
from clinex.core.serialize import document_from_record
from clinex.core.types import Document
from clinex.fhir import bundle_to_document, validate_bundle
from clinex.fhir.extensions import PLAUSIBILITY_COUNT, PLAUSIBILITY_FINDING
from clinex.plausibility import CHECKS

# Written for these tests: one finding of each of four checks the rules extractor can show.
LETTER = (
    "Discharge letter.\n"
    "Chest X-ray on admission showed no evidence of pneumonia. Pneumonia confirmed on CT on day 3.\n"
    "Metformin 5000 mg orally twice daily.\n"
    "Potassium 4.1 mg.\n"
    "Appendectomy planned on 2099-04-01.\n"
    "Tonsillectomy on 1931-04-01.\n"
)
PATIENT = {"resourceType": "Patient", "id": "p1", "birthDate": "1950-02-03"}
CLEAN = "Metformin 500 mg orally twice daily. Haemoglobin 12.1 g/dL.\n"


@pytest.fixture(scope="module")
def letter() -> Document:
    return clinex.extract(LETTER, extractor="rules", id="letter", patient=PATIENT)


def by_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def findings_on(resource: dict[str, Any]) -> list[dict[str, Any]]:
    found = [e for e in resource.get("extension") or [] if e["url"] == PLAUSIBILITY_FINDING]
    return [
        {part["url"]: next(v for k, v in part.items() if k != "url") for part in e["extension"]}
        for e in found
    ]


def test_extract_puts_the_findings_in_meta(letter: Document) -> None:
    checks = Counter(f["check"] for f in letter.meta["checks"])
    assert checks == {
        "condition_refuted_and_confirmed": 1,
        "dose_out_of_range": 1,
        "unit_mismatch": 1,
        "date_in_future": 1,
        "date_before_birth": 1,
    }
    for finding in letter.meta["checks"]:
        entity = letter.entities[finding["entity"]]
        assert finding["span"] == [entity.start, entity.end]
    assert set(letter.meta["checks"][0]) == {"check", "entity", "span", "message", "related"}


def test_a_clean_note_has_an_empty_list_of_checks() -> None:
    doc = clinex.extract(CLEAN, extractor="rules")
    assert doc.meta["checks"] == []
    assert doc.to_dict()["meta"]["checks"] == []


def test_the_jsonl_record_carries_the_checks_and_reads_back(letter: Document) -> None:
    record = json.loads(json.dumps(letter.to_dict()))
    assert record["meta"]["checks"] == letter.meta["checks"]
    assert document_from_record(record, text=LETTER).meta == json.loads(json.dumps(letter.meta))


def test_the_bundle_carries_each_finding_on_its_resource_and_validates(letter: Document) -> None:
    bundle = letter.to_fhir()
    validate_bundle(bundle)
    (statement,) = by_type(bundle, "MedicationStatement")
    assert [f["check"] for f in findings_on(statement["resource"])] == ["dose_out_of_range"]
    refuted, confirmed = by_type(bundle, "Condition")
    (finding,) = findings_on(refuted["resource"])
    assert finding["check"] == "condition_refuted_and_confirmed"
    assert finding["related"] == {"reference": confirmed["fullUrl"]}
    assert findings_on(confirmed["resource"]) == []
    (observation,) = by_type(bundle, "Observation")
    assert [f["check"] for f in findings_on(observation["resource"])] == ["unit_mismatch"]
    (provenance,) = by_type(bundle, "Provenance")
    counts = [
        e["valueInteger"] for e in provenance["resource"]["extension"] if e["url"] == PLAUSIBILITY_COUNT
    ]
    assert counts == [5]
    validate_bundle(letter.to_fhir(bundle_type="transaction"))


def test_the_bundle_gives_back_the_checks_and_the_run_keeps_one_device(letter: Document) -> None:
    bundle = letter.to_fhir()
    assert bundle_to_document(bundle, default_id="x").meta == letter.meta
    clean = clinex.extract(CLEAN, extractor="rules", id="clean").to_fhir()
    (device,), (clean_device,) = by_type(bundle, "Device"), by_type(clean, "Device")
    assert device == clean_device  # the findings of a note are not the run's
    assert "checks" not in json.loads(device["resource"]["extension"][0]["valueString"])
    (provenance,) = by_type(clean, "Provenance")
    assert [
        e["valueInteger"] for e in provenance["resource"]["extension"] if e["url"] == PLAUSIBILITY_COUNT
    ] == [0]


def test_the_batch_summary_counts_findings_per_check(letter: Document) -> None:
    summary = BatchSummary()
    summary.add(NoteOutcome(source="a.txt", document=letter))
    summary.add(NoteOutcome(source="b.txt", document=clinex.extract(CLEAN, extractor="rules")))
    summary.add(NoteOutcome(source="c.txt", skipped=True))
    assert summary.checks == {
        "condition_refuted_and_confirmed": 1,
        "dose_out_of_range": 1,
        "unit_mismatch": 1,
        "date_in_future": 1,
        "date_before_birth": 1,
    }
    rows = dict(summary.check_rows())
    assert list(rows) == list(CHECKS) and rows["medication_started_and_stopped"] == 0
    again = BatchSummary.from_dict(json.loads(json.dumps(summary.as_dict())))
    again.merge(summary)
    assert again.checks["dose_out_of_range"] == 2 and again.notes == 6
    assert BatchSummary.from_dict({"ok": 1}).checks == {}  # a summary written before the checks


def test_the_cli_summary_shows_findings_per_check(tmp_path: Path) -> None:
    note = tmp_path / "letter.txt"
    note.write_text(LETTER, encoding="utf-8")
    result = CliRunner().invoke(app, ["extract", str(note), "--extractor", "rules", "--format", "jsonl"])
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["meta"]["checks"]) == 4  # no patient given: no birth date to check
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in result.stderr.splitlines()
        if line.count("│") == 3
    }
    assert (
        rows["dose_out_of_range"] == "1" and "medication_started_and_stopped" not in rows
    )  # only what fired
    clean = tmp_path / "clean.txt"
    clean.write_text(CLEAN, encoding="utf-8")
    result = CliRunner().invoke(app, ["extract", str(clean), "--extractor", "rules", "--format", "jsonl"])
    assert result.exit_code == 0, result.stderr
    assert "plausibility checks: no findings" in result.stderr
