"""Reading coded data: TSV shapes, FHIR resources by encounter and note, and bad input by file:line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from align_helpers import synthea_like_bundle

from clinex.align import read_coded
from clinex.core.errors import ConfigError, InputError
from clinex.core.systems import ICD10CM, ICD10PCS, LOINC, SNOMED


def test_two_column_tsv_with_system_normalises_codiesp_codes(tmp_path: Path) -> None:
    path = tmp_path / "trainD.tsv"
    path.write_text("n1\tn44.8\nn1\tr52\n\nn2\tI10\n", encoding="utf-8")
    facts, skips = read_coded(path, system="icd10cm")
    assert [(f.note_id, f.system, f.code, f.where) for f in facts] == [
        ("n1", ICD10CM, "N44.8", "trainD.tsv:1"),
        ("n1", ICD10CM, "R52", "trainD.tsv:2"),
        ("n2", ICD10CM, "I10", "trainD.tsv:4"),
    ]
    assert skips == []


def test_three_column_tsv_names_each_system_and_skips_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "codes.tsv"
    path.write_text(
        "note_id\tsystem\tcode\n"
        "n1\ticd10cm\tI10\n"
        "n1\thttp://loinc.org\t718-7\n"
        "n1\tmadeup\tX1\n"
        "n1\ticd10pcs\n"
        "n2\ticd10pcs\t0DTJ4ZZ\n",
        encoding="utf-8",
    )
    facts, skips = read_coded(path)
    assert [(f.system, f.code) for f in facts] == [(ICD10CM, "I10"), (LOINC, "718-7"), (ICD10PCS, "0DTJ4ZZ")]
    assert [(s.kind, s.where) for s in skips] == [
        ("unknown system", "codes.tsv:4"),
        ("malformed", "codes.tsv:5"),
    ]
    assert all(s.message.startswith(s.where) for s in skips)


def test_two_columns_without_a_system_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "trainD.tsv"
    path.write_text("n1\tn44.8\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"trainD.tsv:1") as caught:
        read_coded(path)
    assert "--system" in (caught.value.hint or "")


def test_unknown_system_option_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "c.tsv"
    path.write_text("n1\tI10\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown code system"):
        read_coded(path, system="icd9")
    with pytest.raises(InputError, match="no such file"):
        read_coded(tmp_path / "absent.tsv", system="icd10cm")


def test_fhir_resources_belong_to_the_note_of_their_encounter(tmp_path: Path) -> None:
    bundle = synthea_like_bundle(
        "Note text.",
        [
            {
                "resourceType": "Condition",
                "code": {
                    "coding": [
                        {
                            "system": SNOMED,
                            "code": "44054006",
                            "display": "Diabetes mellitus type 2 (disorder)",
                        }
                    ]
                },
            },
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {"coding": [{"system": LOINC, "code": "718-7", "display": "Hemoglobin"}]},
            },
            {
                "resourceType": "Procedure",
                "encounter": {"reference": "urn:uuid:elsewhere"},
                "code": {"coding": [{"system": SNOMED, "code": "1", "display": "x"}]},
            },
            {
                "resourceType": "Condition",
                "encounter": None,
                "code": {"coding": [{"system": SNOMED, "code": "2", "display": "y"}]},
            },
            {
                "resourceType": "Observation",
                "status": "final",
                "encounter": None,
                "derivedFrom": [{"reference": "urn:uuid:d1"}],
                "code": {"coding": [{"system": LOINC, "code": "2345-7", "display": "Glucose"}]},
            },
        ],
    )
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    facts, skips = read_coded(path)
    assert [(f.note_id, f.system, f.code, f.type) for f in facts] == [
        ("d1", SNOMED, "44054006", "condition"),
        ("d1", LOINC, "718-7", "lab"),
        ("d1", LOINC, "2345-7", "lab"),
    ]
    assert facts[0].display == "Diabetes mellitus type 2 (disorder)"
    assert [s.kind for s in skips] == ["no note", "no note"]
    assert all(s.where.startswith("patient.json entry[") for s in skips)


def test_malformed_fhir_names_the_file_and_line(tmp_path: Path) -> None:
    good = synthea_like_bundle(
        "Note.",
        [
            {
                "resourceType": "Condition",
                "code": {"coding": [{"system": SNOMED, "code": "1", "display": "x"}]},
            }
        ],
    )
    path = tmp_path / "export.ndjson"
    path.write_text(json.dumps(good) + "\n{not json\n[1, 2]\n", encoding="utf-8")
    facts, skips = read_coded(path)
    assert len(facts) == 1
    assert [(s.kind, s.where) for s in skips] == [
        ("malformed", "export.ndjson:2"),
        ("malformed", "export.ndjson:3"),
    ]
    broken = tmp_path / "broken.json"
    broken.write_text('{"resourceType": "Bundle", "entry": [', encoding="utf-8")
    facts, skips = read_coded(broken)
    assert facts == [] and [s.where for s in skips] == ["broken.json"]
