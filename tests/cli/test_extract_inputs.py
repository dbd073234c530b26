"""clinex.inputs: each input form, lazily, with a problem record in place of each bad one."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from clinex import EmptyNoteError, FHIRError, InputError
from clinex.inputs import InputProblem, NoteRecord, decode_note, read_inputs

FHIR_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fhir"


def test_txt_keeps_line_endings_and_drops_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "n.txt"
    path.write_bytes("\ufeffLine one\r\nLine two".encode())
    (record,) = read_inputs([path])
    assert record == NoteRecord(id="n", text="Line one\r\nLine two", source=str(path))


def test_directory_is_sorted_and_recursive(tmp_path: Path) -> None:
    for name in ("b.txt", "a/z.txt", "a.txt", "c.TXT"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"note {name}", encoding="utf-8")
    ids = [r.id for r in read_inputs([tmp_path]) if isinstance(r, NoteRecord)]
    assert ids == ["a/z", "a", "b", "c"]


def test_records_are_read_lazily(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("Metformin.", encoding="utf-8")
    records = read_inputs([good, tmp_path / "not-there.txt"])
    assert isinstance(next(records), NoteRecord)  # the missing file is only looked at later
    problem = next(records)
    assert isinstance(problem, InputProblem) and "no such file" in str(problem.error)


def test_jsonl_patient_and_default_ids(tmp_path: Path) -> None:
    path = tmp_path / "batch.ndjson"
    patient = {"resourceType": "Patient", "id": "p1"}
    path.write_text(
        json.dumps({"id": 7, "text": "a", "patient": patient}) + "\n" + json.dumps({"text": "b"}) + "\n",
        encoding="utf-8",
    )
    first, second = read_inputs([path])
    assert first == NoteRecord(id="7", text="a", source=f"{path}:1", patient=patient)
    assert isinstance(second, NoteRecord) and second.id == "batch-2"


@pytest.mark.parametrize(
    ("line", "error", "reason"),
    [
        ('{"id": "x"}', InputError, "has no 'text'"),
        ('{"id": "x", "text": 5}', InputError, "'text' is not a string"),
        ('{"id": "", "text": "a"}', InputError, "'id' must be"),
        ('["a"]', InputError, "not a JSON object"),
        ('{"id": "x", "text": "a", "patient": {"name": "n"}}', InputError, "not a FHIR Patient"),
        ('{"id": "x", "text": "  "}', EmptyNoteError, "is empty"),
        ('{"resourceType": "DocumentReference", "content": []}', FHIRError, "DocumentReference: status"),
    ],
)
def test_bad_jsonl_lines_name_file_and_line(tmp_path: Path, line: str, error: type, reason: str) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": "ok", "text": "fine"}\n' + line + "\n", encoding="utf-8")
    ok, problem = read_inputs([path])
    assert isinstance(ok, NoteRecord)
    assert isinstance(problem, InputProblem) and isinstance(problem.error, error)
    assert f"{path}:2" in str(problem.error) and reason in str(problem.error)


def test_fhir_lines_in_jsonl_are_read_as_fhir(tmp_path: Path) -> None:
    resource = json.loads((FHIR_FIXTURES / "docref_note.json").read_text(encoding="utf-8"))
    path = tmp_path / "resources.ndjson"
    path.write_text(json.dumps(resource) + "\n", encoding="utf-8")
    (record,) = read_inputs([path])
    assert isinstance(record, NoteRecord) and record.id == "docref-17" and record.source == f"{path}:1"


def test_fhir_bundle_records_are_located_by_entry() -> None:
    path = FHIR_FIXTURES / "bundle_two_notes.json"
    sources = [r.source for r in read_inputs([path])]
    assert sources == [f"{path} entry[1]", f"{path} entry[2]"]


def test_stdin_plain_text_and_unknown_suffix_are_sniffed(tmp_path: Path) -> None:
    (record,) = read_inputs(["-"], stdin=io.BytesIO(b"Plain note."))
    assert record == NoteRecord(id="stdin", text="Plain note.", source="<stdin>")
    weird = tmp_path / "export.dat"
    weird.write_bytes(b"\xef\xbb\xbf" + (FHIR_FIXTURES / "docref_note.json").read_bytes())
    (from_file,) = read_inputs([weird])
    assert isinstance(from_file, NoteRecord) and from_file.id == "docref-17"


def test_decode_note_rejects_binary_and_non_utf8_with_a_fix() -> None:
    with pytest.raises(InputError, match="binary file"):
        decode_note("utf-16 text".encode("utf-16"), source="u16.txt")
    with pytest.raises(InputError, match=r"not valid UTF-8 \(first bad byte at offset 3\)") as caught:
        decode_note("Caf\xe9".encode("cp1252"), source="cp.txt")
    assert caught.value.hint is not None and "iconv" in caught.value.hint
    assert decode_note("Café".encode(), source="ok.txt") == "Café"


def test_empty_directory_is_a_problem(tmp_path: Path) -> None:
    (problem,) = read_inputs([tmp_path])
    assert isinstance(problem, InputProblem) and "no .txt files" in str(problem.error)


def test_two_megabyte_note_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    text = "Patient on metformin 500 mg twice daily.\n" * 50_000
    path.write_text(text, encoding="utf-8")
    (record,) = read_inputs([path])
    assert isinstance(record, NoteRecord) and record.text == text and len(text) > 2_000_000


@pytest.mark.parametrize("threshold", [-0.1, 1.01, float("nan")])
def test_extract_refuses_a_threshold_outside_zero_to_one(threshold: float) -> None:
    import clinex
    from clinex import ConfigError

    with pytest.raises(ConfigError, match="min_confidence"):
        clinex.extract("Metformin 500 mg.", extractor="rules", min_confidence=threshold)


def test_parquet_rows_are_notes_with_their_patient_and_problems_named_by_row(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    import pyarrow
    import pyarrow.parquet

    patient = {"resourceType": "Patient", "id": "p1"}
    table = pyarrow.table(
        {
            "id": ["a", None, "c", "d"],
            "text": ["Metformin.", "Asthma.", None, "Fever."],
            "patient": [json.dumps(patient), None, None, "{not json"],
        }
    )
    path = tmp_path / "notes.parquet"
    pyarrow.parquet.write_table(table, path, row_group_size=2)
    first, second, third, fourth = read_inputs([path])
    assert first == NoteRecord(id="a", text="Metformin.", source=f"{path}:row 1", patient=patient)
    assert second == NoteRecord(id="notes-2", text="Asthma.", source=f"{path}:row 2")
    assert (
        isinstance(third, InputProblem)
        and third.source == f"{path}:row 3"
        and "no 'text'" in str(third.error)
    )
    assert isinstance(fourth, InputProblem) and "'patient' is malformed JSON" in str(fourth.error)
    assert "Fever" not in str(fourth.error)


def test_a_parquet_file_without_text_or_not_parquet_is_one_problem(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    import pyarrow
    import pyarrow.parquet

    no_text = tmp_path / "ids.parquet"
    pyarrow.parquet.write_table(pyarrow.table({"id": ["a"]}), no_text)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    (problem,) = read_inputs([no_text])
    assert isinstance(problem, InputProblem) and "no 'text' column" in str(problem.error)
    (problem,) = read_inputs([broken])
    assert isinstance(problem, InputProblem) and "not a readable Parquet file" in str(problem.error)


def test_rereadable_inputs_refuse_stdin_and_unknown_formats(tmp_path: Path) -> None:
    from clinex.inputs import check_rereadable

    (tmp_path / "a.txt").write_text("Asthma.", encoding="utf-8")
    (tmp_path / "notes.csv").write_text("id,text\n", encoding="utf-8")
    check_rereadable([tmp_path, tmp_path / "a.txt"])
    with pytest.raises(InputError, match="standard input"):
        check_rereadable(["-"])
    with pytest.raises(InputError, match=r"unknown input format '\.csv'"):
        check_rereadable([tmp_path / "notes.csv"])
    with pytest.raises(InputError, match="no such file"):
        check_rereadable([tmp_path / "missing.jsonl"])
