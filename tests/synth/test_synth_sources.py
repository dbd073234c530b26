"""Reading structured FHIR: Bundles, NDJSON, Synthea output, and bad input that must not crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synth_fixtures import oncology_bundle

from clinex.core.errors import InputError
from clinex.synth.sources import read_sources


def test_bundle_and_ndjson_give_the_same_patient_facts(oncology_dir: Path) -> None:
    patients, report = read_sources([oncology_dir])
    assert report.patients == report.patients_used == 2
    assert not report.warning_counts
    facts = [
        sorted((f.type, f.name, f.role, f.code.code if f.code else None) for f in p.facts) for p in patients
    ]
    assert facts[0] == facts[1]


def test_facts_are_read_with_codes_doses_and_staging(oncology_dir: Path) -> None:
    patient = read_sources([oncology_dir / "p1.json"])[0][0]
    by_name = {f.name: f for f in patient.facts}
    assert by_name["diabetes mellitus type 2"].code is not None
    assert by_name["diabetes mellitus type 2"].code.code == "E11.9"  # SNOMED mapped to ICD-10-CM
    assert "full-time employment" not in by_name  # social findings are not clinical facts
    metformin = by_name["metformin hydrochloride"]
    assert metformin.dose is not None and (metformin.dose.value, metformin.dose.unit) == (1000.0, "mg")
    assert (metformin.route, metformin.per_day) == ("oral", 2)
    assert by_name["glucose"].value == 142.0 and by_name["glucose"].unit == "mg/dL"
    tumor = next(f for f in patient.facts if f.type == "tumor")
    assert tumor.tumor is not None
    assert (tumor.tumor.t, tumor.tumor.n, tumor.tumor.m, tumor.tumor.grade) == ("T3", "N1", "M0", 2)
    assert tumor.code is not None and tumor.code.code == "C18.9"
    assert "malignant neoplasm of colon" in by_name  # ICD-10-CM display, without "unspecified"
    assert by_name["pneumonia"].until is not None  # abated: becomes history in letters


def test_bad_records_are_warned_about_and_counted_never_raised(tmp_path: Path) -> None:
    good = oncology_bundle("good")
    patient_ref = good["entry"][0]["resource"]["id"]
    (tmp_path / "good.json").write_text(json.dumps(good), encoding="utf-8")
    (tmp_path / "broken.json").write_text('{"resourceType": "Bundle", "entry": [', encoding="utf-8")
    orphan = {
        "resourceType": "Condition",
        "id": "orphan",
        "subject": {"reference": "Patient/nobody"},
        "code": {
            "coding": [
                {
                    "system": "http://snomed.info/sct",
                    "code": "59621000",
                    "display": "Essential hypertension (disorder)",
                }
            ]
        },
    }
    strange = {
        "resourceType": "Condition",
        "id": "strange",
        "subject": {"reference": f"Patient/{patient_ref}"},
        "code": {"coding": [{"system": "urn:local:codes", "code": "X1", "display": "Gout"}]},
    }
    lonely = {"resourceType": "Patient", "id": "lonely"}
    lines = [json.dumps(orphan), "{not json", json.dumps(strange), json.dumps(lonely)]
    (tmp_path / "extra.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")

    patients, report = read_sources([tmp_path])

    assert [p.id for p in patients] == [patient_ref]
    assert report.warning_counts == {
        "malformed JSON": 2,
        "Condition refers to a missing patient": 1,
        "condition coded in an unknown code system": 1,
        "patient has no encounters": 1,
    }
    assert any(w.startswith("extra.ndjson:2") for w in report.warnings)  # names file and line
    gout = [f for f in patients[0].facts if f.name == "gout"]
    assert gout and gout[0].code is not None and gout[0].code.code == "M10.9"  # mapped by its display


def test_no_fhir_files_is_a_clear_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no FHIR files"):
        read_sources([tmp_path])


def test_synthea_output_is_read(synthea_dir: Path) -> None:
    patients, report = read_sources([synthea_dir])
    assert report.patients == 2 and patients
    types = {f.type for p in patients for f in p.facts}
    assert {"condition", "lab"} <= types
    assert report.icd_mapping["curated"] > 0
    # Every disorder these patients have gets an ICD-10-CM code in the gold.
    assert [f.name for p in patients for f in p.facts if f.type == "condition" and f.code is None] == []
    # Synthea names each encounter's provider as an Organization in the same Bundle: the site.
    assert all(e.site for p in patients for e in p.encounters)
