"""`clinex align` end to end: the three files, what is skipped, FHIR notes with their resources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
from align_helpers import synthea_like_bundle, write_notes

from clinex.align import run_align
from clinex.align.similar import THRESHOLD
from clinex.cli.align import align
from clinex.core.systems import LOINC, SNOMED


def _records(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "silver.jsonl").read_text(encoding="utf-8").splitlines()]


def test_cli_writes_silver_and_reports_and_counts_what_it_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = write_notes(
        tmp_path / "notes",
        {
            "n1": "Admitted with portal hypertension and fever.\nNo fever since day 2.\n",
            "n2": "Follow-up visit without codes.\n",
            "empty": "   \n",
        },
    )
    codes = tmp_path / "trainD.tsv"
    codes.write_text("n1\tk76.6\nn1\tr50.9\nn1\tz99.999\nn1\tbad\tline\tmore\nghost\ti10\n", encoding="utf-8")
    out = tmp_path / "out"
    align(notes, codes, out, system="icd10cm", embeddings=False, threshold=None)
    assert sorted(p.name for p in out.iterdir()) == ["report.json", "report.md", "silver.jsonl"]
    records = _records(out)
    assert [r["id"] for r in records] == ["n1"]
    entities = records[0]["entities"]
    assert isinstance(entities, list)
    assert {e["code"]["code"] for e in entities} == {"K76.6", "R50.9"}
    for entity in entities:
        assert records[0]["text"][entity["start"] : entity["end"]] == entity["text"]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["codes"] == 2 and report["grounded"] == 2 and report["share_grounded"] == 1.0
    assert report["by_chapter"] and report["by_system"]["icd10cm"]["codes"] == 2
    assert report["skipped"]["by_kind"] == {
        "malformed": 1,
        "no note": 1,
        "note without codes": 1,
        "unknown code": 1,
        "unreadable note": 1,
    }
    first = " ".join(report["skipped"]["first"])
    assert "trainD.tsv:3" in first and "trainD.tsv:4" in first and "trainD.tsv:5" in first
    assert report["mentions_flagged"].get("negated") == 1
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "2 of 2 codes grounded" in markdown and "## Skipped" in markdown
    err = capsys.readouterr().err
    assert "trainD.tsv:4" in err and "2 of 2 codes grounded" in err
    assert "portal hypertension" not in err  # note text never on the terminal


def test_a_system_clinex_cannot_read_is_skipped_and_the_rest_aligned(tmp_path: Path) -> None:
    notes = write_notes(tmp_path / "notes", {"n1": "Laparoscopic cholecystectomy for fever.\n"})
    codes = tmp_path / "codes.tsv"
    codes.write_text("n1\ticd10pcs\t0FT44ZZ\nn1\ticd10cm\tR50.9\n", encoding="utf-8")
    report = run_align(notes, codes, tmp_path / "out", embeddings=False)
    assert report["skipped"]["by_kind"] == {"unreadable system": 1}
    assert "codes.tsv:1" in report["skipped"]["first"][0]
    assert report["grounded"] == 1


def test_unknown_system_option_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = write_notes(tmp_path / "notes", {"n1": "Fever.\n"})
    codes = tmp_path / "c.tsv"
    codes.write_text("n1\tr50.9\n", encoding="utf-8")
    with pytest.raises(typer.Exit):
        align(notes, codes, tmp_path / "out", system="icd9", embeddings=False, threshold=None)
    assert "unknown code system" in capsys.readouterr().err


def test_synthea_style_bundle_aligns_its_own_note(tmp_path: Path) -> None:
    note = "Patient is presenting with hypertension.\n- Hemoglobin: 13.2 g/dL\n"
    bundle = synthea_like_bundle(
        note,
        [
            {
                "resourceType": "Condition",
                "code": {
                    "coding": [
                        {"system": SNOMED, "code": "59621000", "display": "Essential hypertension (disorder)"}
                    ]
                },
            },
            {
                "resourceType": "Observation",
                "status": "final",
                "code": {
                    "coding": [
                        {"system": LOINC, "code": "718-7", "display": "Hemoglobin [Mass/volume] in Blood"}
                    ]
                },
            },
        ],
    )
    folder = tmp_path / "fhir"
    folder.mkdir()
    (folder / "patient.json").write_text(json.dumps(bundle), encoding="utf-8")
    report = run_align(folder, folder, tmp_path / "out", embeddings=False)
    records = _records(tmp_path / "out")
    assert [r["id"] for r in records] == ["d1"]
    got = {(e["code"]["code"], e["type"], e["text"]) for e in records[0]["entities"]}
    assert ("718-7", "lab", "Hemoglobin") in got
    assert ("59621000", "condition", "hypertension") in got
    assert report["share_grounded"] == 1.0


def test_embedding_search_finds_a_paraphrase_with_the_real_minilm(tmp_path: Path) -> None:
    # "colon carcinoma" shares no core word set with "Malignant neoplasm of colon, unspecified".
    notes = write_notes(
        tmp_path / "notes", {"n1": "Biopsy confirmed a colon carcinoma.\nNo other findings.\n"}
    )
    codes = tmp_path / "c.tsv"
    codes.write_text("n1\tc18.9\n", encoding="utf-8")
    report = run_align(notes, codes, tmp_path / "out", system="icd10cm", embeddings=True)
    record = _records(tmp_path / "out")[0]
    methods = record["meta"]["align"]["entities"]
    assert [m["method"] for m in methods] == ["embedding"]
    assert "carcinoma" in record["entities"][0]["text"]
    assert 0.8 * THRESHOLD <= methods[0]["score"] <= 0.8
    assert report["embeddings"] == {"used": True, "threshold": THRESHOLD}
