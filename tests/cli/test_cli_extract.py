"""`clinex extract` through typer's CliRunner: every input form, both output formats, bad inputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from clinex.cli.app import app
from clinex.fhir import validate_bundle

ROOT = Path(__file__).resolve().parents[2]
LETTER = ROOT / "examples" / "discharge_letter.txt"
FHIR_FIXTURES = ROOT / "tests" / "fixtures" / "fhir"
ENTITY_KEYS = {"type", "text", "start", "end", "alignment", "assertion", "code", "attributes", "confidence"}
ASSERTION_KEYS = {"negated", "historical", "family", "uncertain", "hypothetical"}

# Notes whose text must never appear in an error message.
SECRET = "Secret Person has metformin-resistant Pneumonia"


@pytest.fixture
def run(fixed_extractor_name: str) -> Any:
    runner = CliRunner()

    def invoke(*args: str, stdin: str | bytes | None = None) -> Any:
        return runner.invoke(app, ["extract", *args, "--extractor", fixed_extractor_name], input=stdin)

    return invoke


def kinds(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["resourceType"] for e in bundle["entry"]]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def test_txt_file_to_stdout_is_one_valid_bundle(run: Any) -> None:
    result = run(str(LETTER))
    assert result.exit_code == 0, result.stderr
    bundle = json.loads(result.stdout)
    validate_bundle(bundle)
    found = kinds(bundle)
    assert found[:2] == ["Patient", "DocumentReference"]
    assert found.count("Condition") == 5 and found.count("FamilyMemberHistory") == 2
    assert (
        found.count("MedicationStatement") == 4
        and found.count("Observation") == 3
        and found.count("Procedure") == 3
    )
    # the summary table goes to stderr, never into the data on stdout
    assert "entities" in result.stderr and "condition" in result.stderr


def test_txt_file_to_output_file_and_transaction_bundle(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "out" / "letter.fhir.json"
    result = run(str(LETTER), "-o", str(out), "--bundle-type", "transaction")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    bundle = json.loads(out.read_text(encoding="utf-8"))
    assert bundle["type"] == "transaction"
    requests = [(e["resource"]["resourceType"], e["request"]) for e in bundle["entry"]]
    # the run's Device is PUT by id (one per run on the server); everything else is POSTed
    assert [r["method"] for kind, r in requests if kind == "Device"] == ["PUT"]
    assert all(r == {"method": "POST", "url": kind} for kind, r in requests if kind != "Device")
    validate_bundle(bundle)


def test_directory_is_read_recursively_one_bundle_per_note(run: Any, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    (notes / "ward3").mkdir(parents=True)
    (notes / "a.txt").write_text("Metformin started.", encoding="utf-8")
    (notes / "ward3" / "b.txt").write_text("No aspirin. HbA1c 8.4 %.", encoding="utf-8")
    (notes / "ignored.md").write_text("Metformin", encoding="utf-8")
    out = tmp_path / "bundles"
    result = run(str(notes), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.fhir.json", "ward3_b.fhir.json"]
    b = json.loads((out / "ward3_b.fhir.json").read_text(encoding="utf-8"))
    reference = next(
        e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == "DocumentReference"
    )
    assert reference["identifier"][0]["value"] == "ward3/b"
    assert kinds(b).count("MedicationStatement") == 1 and kinds(b).count("Observation") == 1


def test_jsonl_in_jsonl_out_matches_design_keys(run: Any, tmp_path: Path, fixed_extractor_name: str) -> None:
    source = tmp_path / "notes.jsonl"
    lines = [
        {"id": "n1", "text": "Metformin 1000 mg. No evidence of pulmonary embolism."},
        {"id": "n2", "text": "History of appendectomy in 2009."},
        {"text": "Mother had breast cancer."},
    ]
    source.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n", encoding="utf-8")
    result = run(str(source), "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == ["n1", "n2", "notes-3"]
    for record, given in zip(records, lines, strict=True):
        assert set(record) == {"id", "entities", "meta"}
        assert record["meta"]["extractor"] == f"{fixed_extractor_name}.v1" and isinstance(
            record["meta"]["checks"], list
        )
        for entity in record["entities"]:
            assert set(entity) == ENTITY_KEYS
            assert set(entity["assertion"]) == ASSERTION_KEYS
            assert given["text"][entity["start"] : entity["end"]] == entity["text"]
    assert [e["text"] for e in records[0]["entities"]] == ["Metformin", "pulmonary embolism"]
    assert records[0]["entities"][1]["assertion"]["negated"] is True
    assert records[0]["entities"][0]["code"]["code"] == "6809"
    assert records[2]["entities"][0]["assertion"]["family"] is True


def test_fhir_document_reference_input_keeps_note_id_and_patient(run: Any) -> None:
    result = run(str(FHIR_FIXTURES / "docref_note.json"))
    assert result.exit_code == 0, result.stderr
    bundle = json.loads(result.stdout)
    validate_bundle(bundle)
    # the patient lives on a server: referred to by id, with no (empty) Patient entry to overwrite it
    assert "Patient" not in kinds(bundle)
    reference = bundle["entry"][0]["resource"]
    assert reference["identifier"][0]["value"] == "docref-17"
    about_patient = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] not in ("Provenance", "Device")
    ]
    assert {r["subject"]["reference"] for r in about_patient} == {"Patient/p-42"}
    assert kinds(bundle).count("Condition") == 1 and kinds(bundle).count("MedicationStatement") == 1


def test_fhir_bundle_input_to_ndjson(run: Any, tmp_path: Path) -> None:
    out = tmp_path / "bundles.ndjson"
    result = run(str(FHIR_FIXTURES / "bundle_two_notes.json"), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    bundles = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(bundles) == 2
    for bundle in bundles:
        validate_bundle(bundle)
        assert bundle["entry"][0]["resource"]["name"][0]["family"] == "Example"
    assert "FamilyMemberHistory" in kinds(bundles[0]) and "Procedure" in kinds(bundles[1])


@pytest.mark.parametrize(
    ("stdin", "expected_ids"),
    [
        ("Metformin and aspirin.\n", ["stdin"]),
        ('{"id": "s1", "text": "Metformin."}\n{"id": "s2", "text": "No aspirin."}\n', ["s1", "s2"]),
        ((FHIR_FIXTURES / "docref_note.json").read_text(encoding="utf-8"), ["docref-17"]),
    ],
    ids=["text", "jsonl", "fhir"],
)
def test_stdin_is_sniffed(run: Any, stdin: str, expected_ids: list[str]) -> None:
    result = run("-", "--format", "jsonl", stdin=stdin)
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == expected_ids
    assert all(r["entities"] for r in records)


def test_several_notes_to_stdout_are_ndjson_bundles(run: Any, tmp_path: Path) -> None:
    first, second = tmp_path / "one.txt", tmp_path / "two.txt"
    first.write_text("Metformin.", encoding="utf-8")
    second.write_text("No aspirin.", encoding="utf-8")
    result = run(str(first), str(second))
    assert result.exit_code == 0, result.stderr
    bundles = [json.loads(line) for line in result.stdout.splitlines()]
    assert [b["entry"][1]["resource"]["identifier"][0]["value"] for b in bundles] == ["one", "two"]


def test_model_option_reaches_the_extractor(run: Any, tmp_path: Path) -> None:
    table = tmp_path / "table.json"
    table.write_text(json.dumps({"sepsis": {"type": "condition"}}), encoding="utf-8")
    note = tmp_path / "n.txt"
    note.write_text("Metformin for sepsis.", encoding="utf-8")
    result = run(str(note), "--format", "jsonl", "--model", str(table))
    assert result.exit_code == 0, result.stderr
    assert [e["text"] for e in json.loads(result.stdout)["entities"]] == ["sepsis"]


def bad_inputs(tmp_path: Path) -> dict[str, Path]:
    files = {
        "empty.txt": b"   \n",
        "binary.txt": b"\x89PNG\r\n\x1a\n\x00\x00\x00" + SECRET.encode(),
        "latin1.txt": f"{SECRET}, café".encode("latin-1"),
        "broken.json": b'{"resourceType": "DocumentReference", ',
        "patient.json": json.dumps({"resourceType": "Patient", "id": "x"}).encode(),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path / name
        paths[name].write_bytes(data)
    return paths


def test_bad_inputs_fail_one_by_one_while_good_notes_are_written(run: Any, tmp_path: Path) -> None:
    bad = bad_inputs(tmp_path)
    jsonl = tmp_path / "mixed.jsonl"
    jsonl.write_text(
        json.dumps({"id": "good-1", "text": "Metformin."})
        + "\n{not json "
        + SECRET
        + "\n"
        + json.dumps({"id": "empty", "text": ""})
        + "\n"
        + json.dumps({"id": "good-2", "text": "No aspirin."})
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    args = [str(p) for p in bad.values()] + [str(jsonl)]
    result = run(*args, "--format", "jsonl", "-o", str(out))
    assert result.exit_code == 1
    lines = error_lines(result.stderr)
    expected = {
        "empty.txt": "is empty",
        "binary.txt": "binary file",
        "latin1.txt": "not valid UTF-8",
        "broken.json": "malformed JSON",
        "patient.json": "expected a DocumentReference or a Bundle",
        "mixed.jsonl:2": "malformed JSON",
        "mixed.jsonl:3": "is empty",
    }
    assert len(lines) == len(expected), lines
    for line, (name, reason) in zip(lines, expected.items(), strict=True):
        assert name in line and reason in line, line
    assert SECRET not in result.stderr and "Secret" not in result.stderr
    assert [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()] == [
        "good-1",
        "good-2",
    ]


def test_all_notes_failing_exits_2(run: Any, tmp_path: Path) -> None:
    bad = bad_inputs(tmp_path)
    result = run(str(bad["empty.txt"]), str(bad["latin1.txt"]))
    assert result.exit_code == 2
    assert len(error_lines(result.stderr)) == 2
    assert "iconv" in result.stderr  # the hint says how to fix the encoding


def test_min_confidence_keeps_exactly_the_entities_at_or_above_it(run: Any) -> None:
    everything = run(str(LETTER), "--format", "jsonl")
    assert everything.exit_code == 0, everything.stderr
    (record,) = [json.loads(line) for line in everything.stdout.splitlines()]
    confident = run(str(LETTER), "--format", "jsonl", "--min-confidence", "0.6")
    assert confident.exit_code == 0, confident.stderr
    (kept,) = [json.loads(line) for line in confident.stdout.splitlines()]
    assert kept["entities"] == [e for e in record["entities"] if e["confidence"] >= 0.6]
    assert 0 < len(kept["entities"]) < len(record["entities"])


def test_min_confidence_outside_zero_to_one_is_a_usage_error(run: Any) -> None:
    result = run(str(LETTER), "--min-confidence", "1.5")
    assert result.exit_code == 2
    assert "--min-confidence" in result.stderr and "Traceback" not in result.output


def test_unknown_extractor_is_a_one_line_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["extract", str(LETTER), "--extractor", "nonesuch"])
    assert result.exit_code == 2
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    assert "unknown extractor 'nonesuch'" in line and "choose one of" in line
    assert "Traceback" not in result.output


def test_duplicate_ids_are_reported_not_overwritten(run: Any, tmp_path: Path) -> None:
    source = tmp_path / "dup.jsonl"
    source.write_text(
        '{"id": "x", "text": "Metformin."}\n{"id": "x", "text": "No aspirin."}\n', encoding="utf-8"
    )
    out = tmp_path / "bundles"
    result = run(str(source), "-o", str(out))
    assert result.exit_code == 1
    assert "duplicate note id 'x'" in result.stderr and "dup.jsonl:2" in result.stderr
    assert [p.name for p in out.iterdir()] == ["x.fhir.json"]


def test_resume_skips_notes_already_written(run: Any, tmp_path: Path) -> None:
    source = tmp_path / "notes.jsonl"
    source.write_text(
        "".join(json.dumps({"id": f"n{i}", "text": "Metformin."}) + "\n" for i in range(4)), encoding="utf-8"
    )
    out = tmp_path / "out.jsonl"
    # an earlier run wrote n0 and n1, and was cut off in the middle of n2's line
    out.write_text(
        '{"id": "n0", "entities": []}\n{"id": "n1", "entities": []}\n{"id": "n2", "enti', encoding="utf-8"
    )
    result = run(str(source), "--format", "jsonl", "-o", str(out), "--resume")
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in records] == ["n0", "n1", "n2", "n3"]
    assert records[0]["entities"] == [] and records[3]["entities"]
    assert "skipped" in result.stderr


def test_resume_into_a_directory_skips_existing_bundles(run: Any, tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    for name in ("a", "b"):
        (notes / f"{name}.txt").write_text("Metformin.", encoding="utf-8")
    out = tmp_path / "bundles"
    out.mkdir()
    (out / "a.fhir.json").write_text("{}", encoding="utf-8")
    result = run(str(notes), "-o", str(out), "--resume")
    assert result.exit_code == 0, result.stderr
    assert (out / "a.fhir.json").read_text(encoding="utf-8") == "{}"
    validate_bundle(json.loads((out / "b.fhir.json").read_text(encoding="utf-8")))


def test_resume_without_output_is_a_usage_error(run: Any) -> None:
    result = run(str(LETTER), "--resume")
    assert result.exit_code == 2
    assert "--resume needs an output" in result.stderr


def test_a_note_over_max_chars_is_an_error_naming_its_length(run: Any, tmp_path: Path) -> None:
    note = tmp_path / "long.txt"
    note.write_text("Asthma. " * 50, encoding="utf-8")
    result = run(str(note), "--format", "jsonl", "--max-chars", "100")
    assert result.exit_code == 2 and result.stdout == ""
    assert (
        "[E102]" in result.stderr and "note 'long' has 400 characters, over the limit of 100" in result.stderr
    )
    assert "Asthma" not in result.stderr
    assert run(str(note), "--format", "jsonl", "--max-chars", "0").exit_code == 0  # 0: no limit


def test_two_megabyte_note_is_processed(run: Any, tmp_path: Path) -> None:
    paragraph = LETTER.read_text(encoding="utf-8")
    note = tmp_path / "big.txt"
    note.write_text(paragraph * (2_000_000 // len(paragraph) + 1), encoding="utf-8")
    assert note.stat().st_size > 2_000_000
    result = run(str(note), "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    letter = json.loads(run(str(LETTER), "--format", "jsonl").stdout)
    assert record["id"] == "big"
    assert len(letter["entities"]) > 10
    assert record["entities"] == letter["entities"]  # the test extractor grounds first occurrences


def test_unwritable_output_is_a_one_line_error(run: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    result = run(str(LETTER), "--format", "jsonl", "-o", str(blocker / "out.jsonl"))
    assert result.exit_code == 2
    assert "cannot open the output" in result.stderr and "Traceback" not in result.output


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux /dev/full")
def test_full_disk_stops_the_batch_with_a_resume_hint(run: Any) -> None:
    result = run(str(LETTER), "--format", "jsonl", "-o", "/dev/full")
    assert result.exit_code == 2
    assert "cannot write the output" in result.stderr and "--resume" in result.stderr


def test_fhir_document_reference_without_id_is_named_after_its_file(run: Any, tmp_path: Path) -> None:
    resource = json.loads((FHIR_FIXTURES / "docref_note.json").read_text(encoding="utf-8"))
    del resource["id"]
    source = tmp_path / "discharge-2024.json"
    source.write_text(json.dumps(resource), encoding="utf-8")
    result = run(str(source), "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "discharge-2024"
