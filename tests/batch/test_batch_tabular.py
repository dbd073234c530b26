"""The analysts' table: one row per fact, as CSV, and as Parquet where pyarrow is installed."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from clinex.batch.tabular import COLUMNS, ParquetWriter, fact_rows
from clinex.cli.app import app
from clinex.core.errors import ConfigError
from clinex.core.types import Assertion, Code, Document, Entity

NOTE = "No chest pain. Metformin 500 mg twice daily."


def document() -> Document:
    pain = Entity(type="condition", text="chest pain", start=3, end=13, assertion=Assertion(negated=True))
    metformin = Entity(
        type="medication",
        text="Metformin",
        start=15,
        end=24,
        code=Code(system="http://www.nlm.nih.gov/research/umls/rxnorm", code="6809", display="metformin"),
        attributes={"dose": "500 mg", "frequency": "twice daily", "strength_note": "plugin"},
        confidence=0.912345,
    )
    return Document(text=NOTE, id="n1", entities=[pain, metformin])


def test_one_row_per_fact_with_every_column() -> None:
    rows = fact_rows(document())
    assert [list(row) for row in rows] == [list(COLUMNS)] * 2
    pain, metformin = rows
    assert (pain["note_id"], pain["type"], pain["text"], pain["start"], pain["end"]) == (
        "n1",
        "condition",
        "chest pain",
        3,
        13,
    )
    assert pain["negated"] is True and pain["historical"] is False and pain["code"] is None
    assert NOTE[metformin["start"] : metformin["end"]] == metformin["text"]
    assert (metformin["code_system"], metformin["code"], metformin["code_display"]) == (
        "http://www.nlm.nih.gov/research/umls/rxnorm",
        "6809",
        "metformin",
    )
    assert (metformin["dose"], metformin["frequency"], metformin["route"]) == ("500 mg", "twice daily", None)
    # an attribute outside the vocabulary is kept, not dropped
    assert json.loads(metformin["other_attributes"]) == {"strength_note": "plugin"}
    assert pain["other_attributes"] is None
    assert metformin["confidence"] == 0.9123
    assert fact_rows(Document(text=NOTE, id="empty")) == []


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    source = tmp_path / "notes.jsonl"
    lines = [
        {"id": "n1", "text": "Metformin 1000 mg. No evidence of pulmonary embolism."},
        {"id": "n2", "text": "Mother had breast cancer."},
    ]
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return source


def extract(*args: str, extractor: str) -> Any:
    return CliRunner().invoke(app, ["extract", *args, "--extractor", extractor])


def test_csv_to_stdout_is_one_row_per_fact(notes: Path, fixed_extractor_name: str) -> None:
    result = extract(str(notes), "--format", "csv", extractor=fixed_extractor_name)
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == COLUMNS
    assert [(r["note_id"], r["text"]) for r in rows] == [
        ("n1", "Metformin"),
        ("n1", "pulmonary embolism"),
        ("n2", "breast cancer"),
    ]
    embolism, cancer = rows[1], rows[2]
    assert embolism["negated"] == "true" and embolism["family"] == "false" and cancer["family"] == "true"
    assert rows[0]["code"] == "6809" and rows[0]["dose"] == "1000 mg" and rows[0]["route"] == "oral"
    assert embolism["date"] == "" and float(rows[0]["confidence"]) == 0.97


def test_csv_file_is_written_whole_and_readable_by_others(
    notes: Path, fixed_extractor_name: str, tmp_path: Path
) -> None:
    out = tmp_path / "tables" / "facts.csv"
    result = extract(
        str(notes), "-f", "csv", "-o", str(out), "--engine", "local", extractor=fixed_extractor_name
    )
    assert result.exit_code == 0, result.stderr
    assert len(list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))) == 3
    assert [p.name for p in out.parent.iterdir()] == ["facts.csv"]  # no temporary file left
    plain = tmp_path / "plain"
    plain.write_text("", encoding="utf-8")
    assert out.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_tables_cannot_be_resumed(notes: Path, fixed_extractor_name: str, tmp_path: Path) -> None:
    result = extract(
        str(notes), "-f", "csv", "-o", str(tmp_path / "f.csv"), "--resume", extractor=fixed_extractor_name
    )
    assert result.exit_code == 2
    assert "--resume does not work with --format csv" in result.stderr


def test_parquet_without_pyarrow_names_the_extra_before_any_model_loads(
    notes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow now fails as if absent
    with pytest.raises(ConfigError, match="needs pyarrow, which is not installed") as error:
        ParquetWriter(tmp_path / "f.parquet")
    assert error.value.hint is not None and "clinex[parquet]" in error.value.hint
    out = tmp_path / "facts.parquet"
    result = extract(str(notes), "-f", "parquet", "-o", str(out), extractor="nonesuch-never-loaded")
    assert result.exit_code == 2
    assert "pip install 'clinex[parquet]'" in result.stderr  # printed as text, not eaten as markup
    assert not out.exists()


def test_parquet_needs_an_output_file(notes: Path, fixed_extractor_name: str) -> None:
    result = extract(str(notes), "-f", "parquet", extractor=fixed_extractor_name)
    assert result.exit_code == 2
    assert "needs an output file" in result.stderr


def test_parquet_holds_the_csv_rows_with_types(
    notes: Path, fixed_extractor_name: str, tmp_path: Path
) -> None:
    parquet = pytest.importorskip("pyarrow.parquet")
    out = tmp_path / "facts.parquet"
    result = extract(str(notes), "-f", "parquet", "-o", str(out), extractor=fixed_extractor_name)
    assert result.exit_code == 0, result.stderr
    table = parquet.read_table(out)
    assert table.column_names == list(COLUMNS)
    assert table.column("text").to_pylist() == ["Metformin", "pulmonary embolism", "breast cancer"]
    assert table.column("negated").to_pylist() == [False, True, False]
    assert table.column("start").to_pylist()[0] == 0 and table.column("date").to_pylist() == [None] * 3
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
