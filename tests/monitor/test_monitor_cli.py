"""`clinex monitor` end to end on hand-written notes: exit codes, reports, refusals, inputs untouched."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clinex.cli.app import app

DRUGS = ["metformin 500 mg", "furosemide 40 mg", "atorvastatin 20 mg", "amlodipine 5 mg", "warfarin 3 mg"]
PROBLEMS = ["hypertension", "type 2 diabetes", "heart failure", "pneumonia", "atrial fibrillation", "asthma"]
LABS = ["Haemoglobin 12.1 g/dL", "Sodium 139 mmol/L", "Creatinine 88 umol/L", "Potassium 4.1 mmol/L"]


def letter(rng: random.Random) -> str:
    problems = rng.sample(PROBLEMS, 2)
    return (
        "Discharge summary\n\nDiagnoses:\n"
        f"{problems[0].capitalize()}. History of {problems[1]}. No fever.\n\n"
        "Medications on discharge:\n"
        + "".join(f"{d.capitalize()} orally twice daily.\n" for d in rng.sample(DRUGS, 2))
        + "\nInvestigations:\n"
        + ". ".join(rng.sample(LABS, 2))
        + ".\n\nPlan:\nReview in clinic in "
        + str(rng.randint(2, 8))
        + " weeks.\n"
    )


def telegraphic(rng: random.Random) -> str:
    """Another clinic's progress notes: no headers, capitals and short-hand."""
    return (
        f"PT {rng.randint(40, 90)}YO M W/ HTN, T2DM, CHF. C/O SOB X{rng.randint(2, 5)}D. "
        f"BP {rng.randint(110, 170)}/{rng.randint(60, 95)} HR {rng.randint(60, 110)}. "
        f"CXR NAD. ECG AF. START {rng.choice(DRUGS).upper()} PO BID. F/U PCP {rng.randint(1, 4)}WK.\n"
    )


def _notes(folder: Path, make, n: int, seed: int) -> Path:
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    for i in range(n):
        (folder / f"n{seed}-{i:03d}.txt").write_text(make(rng), encoding="utf-8")
    return folder


def _extract(notes: Path, out: Path, *, fmt: str = "jsonl") -> Path:
    result = CliRunner().invoke(
        app, ["extract", str(notes), "--extractor", "rules", "-o", str(out), "-f", fmt, "--quiet"]
    )
    assert result.exit_code == 0, result.output
    return out


def _digest(path: Path) -> str:
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in files)).hexdigest()


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    root = tmp_path_factory.mktemp("monitor-cli")
    out = {}
    for name, make, seed in (("ref", letter, 1), ("same", letter, 2), ("other", telegraphic, 3)):
        notes = _notes(root / name, make, 40, seed)
        out[name] = (notes, _extract(notes, root / f"{name}.jsonl"))
    return out


def test_the_same_kind_of_notes_exits_0_and_writes_both_reports(sets, tmp_path: Path) -> None:
    before = {k: (_digest(a), _digest(b)) for k, (a, b) in sets.items()}
    result = CliRunner().invoke(
        app,
        [
            "monitor",
            "--ref", *map(str, sets["ref"]),
            "--cur", *map(str, sets["same"]),
            "--report", str(tmp_path / "report"),
            "--permutations", "5",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "report" / "monitor.json").read_text(encoding="utf-8"))
    assert data["status"] in {"ok", "warn"}
    assert {s["name"] for s in data["signals"]} >= {
        "note_length", "section_headers", "abbreviation_rate", "unknown_word_rate", "domain_classifier",
        "facts_per_note:condition", "icd_chapter_mix", "assertion_mix", "ungrounded_share",
        "llm_parse_failures", "confidence:condition", "estimated_precision",
    }  # fmt: skip
    precision = next(s for s in data["signals"] if s["name"] == "estimated_precision")
    assert (
        precision["status"] != "n/a" and 0 < precision["ref"]["precision"] <= 1
    )  # rules output is calibrated
    html = (tmp_path / "report" / "monitor.html").read_text(encoding="utf-8")
    assert "clinex monitor" in html and "estimated_precision" in html and "data:image/png;base64" in html
    # Neither report holds a whole note; the inputs are untouched.
    some_note = next(sets["ref"][0].glob("*.txt")).read_text(encoding="utf-8")
    assert some_note not in html and some_note.strip() not in json.dumps(data)
    assert before == {k: (_digest(a), _digest(b)) for k, (a, b) in sets.items()}


def test_another_kind_of_notes_exits_3_naming_the_alarms(sets, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "monitor",
            "--ref",
            *map(str, sets["ref"]),
            "--cur",
            *map(str, sets["other"]),
            "--permutations",
            "5",
        ],
    )
    assert result.exit_code == 3, result.output
    assert "ALARM" in result.output
    alarmed = {line.split()[1] for line in result.output.splitlines() if line.startswith("alarm")}
    assert {"abbreviation_rate", "section_headers", "domain_classifier"} <= alarmed


def test_fhir_output_holds_its_notes_so_two_folders_are_enough(sets, tmp_path: Path) -> None:
    ref = _extract(sets["ref"][0], tmp_path / "last_month", fmt="fhir")
    cur = _extract(sets["other"][0], tmp_path / "this_month", fmt="fhir")
    result = CliRunner().invoke(app, ["monitor", str(ref), str(cur), "--permutations", "5"])
    assert result.exit_code == 3, result.output


def test_different_extractors_are_warned_about(sets, tmp_path: Path) -> None:
    notes = sets["same"][0]
    raw = tmp_path / "raw"
    result = CliRunner().invoke(
        app,
        [
            "extract",
            str(notes),
            "--extractor",
            "rules",
            "--calibration",
            "none",
            "-o",
            str(raw),
            "-f",
            "fhir",
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    ref = _extract(sets["ref"][0], tmp_path / "ref", fmt="fhir")
    result = CliRunner().invoke(app, ["monitor", str(ref), str(raw), "--permutations", "0"])
    assert "differ in calibration" in result.output
    assert "no precision estimate" not in result.output  # said in the report, not as an error


def test_bad_inputs_are_clear_errors(sets, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["monitor", "--ref", *map(str, sets["ref"])])
    assert result.exit_code == 2 and "give CUR once" in result.output
    result = runner.invoke(
        app, ["monitor", "--ref", *map(str, sets["ref"]), "--cur", str(sets["other"][0]), str(sets["ref"][1])]
    )
    assert result.exit_code == 2 and "have no note in" in result.output
    result = runner.invoke(app, ["monitor", str(sets["ref"][1]), str(sets["same"][1])])
    assert result.exit_code == 2 and "carry no note text" in result.output
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    result = runner.invoke(
        app, ["monitor", "--ref", *map(str, sets["ref"]), "--cur", str(sets["same"][0]), str(empty)]
    )
    assert result.exit_code == 2 and "hold no documents" in result.output
    result = runner.invoke(
        app,
        [
            "monitor",
            "--ref",
            *map(str, sets["ref"]),
            "--cur",
            str(sets["same"][0]),
            str(tmp_path / "nope.jsonl"),
        ],
    )
    assert result.exit_code == 2 and "no such file" in result.output
