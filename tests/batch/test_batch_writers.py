"""clinex.batch.writers and files: targets checked before any work, no file from a failed run."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from clinex.batch import open_writer
from clinex.batch.files import AtomicFile, check_writable
from clinex.core.errors import ConfigError, FHIRError
from clinex.core.types import Document


def test_a_path_under_a_file_cannot_be_opened(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"cannot open the output .*is not a directory"):
        check_writable(blocker / "deeper" / "out.jsonl")
    with pytest.raises(ConfigError, match="is a directory"):
        check_writable(tmp_path)
    with pytest.raises(ConfigError, match="is a file, but several notes need a directory"):
        check_writable(blocker, directory=True)
    assert list(tmp_path.iterdir()) == [blocker]  # checking created nothing


@pytest.mark.parametrize("fmt", ["jsonl", "fhir", "csv"])
def test_nothing_is_created_until_the_first_note_is_written(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "new" / f"out.{'ndjson' if fmt == 'fhir' else fmt}"
    writer = open_writer(fmt, out, many=True, stdout=io.StringIO())
    writer.close()
    assert not (tmp_path / "new").exists()
    writer = open_writer(fmt, out, many=True, stdout=io.StringIO())
    writer.write(Document(text="Metformin.", id="n1"))
    writer.close()
    assert out.exists() and writer.destination == str(out)


def test_several_bundles_to_a_file_name_are_refused_with_the_two_ways_out(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        open_writer("fhir", tmp_path / "out.json", many=True, stdout=io.StringIO())
    assert "out.json names a file" in error.value.message
    assert (
        error.value.hint is not None and "out.ndjson" in error.value.hint and "directory" in error.value.hint
    )
    assert list(tmp_path.iterdir()) == []
    writer = open_writer("fhir", tmp_path / "bundles", many=True, stdout=io.StringIO())
    assert writer.destination == f"{tmp_path / 'bundles'}/"


def test_a_bad_patient_is_the_callers_to_fix_not_a_bug(tmp_path: Path) -> None:
    out = tmp_path / "out.ndjson"
    writer = open_writer("fhir", out, many=True, stdout=io.StringIO())
    patient = {"resourceType": "Patient", "birthDate": "Secret Person's birthday"}
    with pytest.raises(FHIRError) as error:
        writer.write(Document(text="Metformin.", id="n1", patient=patient))
    assert "n1" in error.value.message and "birthDate" in error.value.message
    assert "Secret" not in str(error.value) and "bug" not in (error.value.hint or "")
    writer.close()
    assert not out.exists()


def test_an_atomic_file_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "t.json"
    file = AtomicFile(target)
    file.open().write(json.dumps({"a": 1}))
    assert not target.exists()
    file.commit()
    assert json.loads(target.read_text(encoding="utf-8")) == {"a": 1}
    other = AtomicFile(target)
    other.open().write("half")
    other.discard()
    assert json.loads(target.read_text(encoding="utf-8")) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]
