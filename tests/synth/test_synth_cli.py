"""`clinex synth` parses its options, writes the dataset and reports bad usage in one line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from clinex.cli.app import app

runner = CliRunner()


def test_synth_writes_a_dataset(oncology_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "ds"
    result = runner.invoke(
        app,
        [
            "synth",
            "--fhir",
            str(oncology_dir),
            "--letters",
            "12",
            "-o",
            str(out),
            "--seed",
            "5",
            "--split",
            "0.5,0.25,0.25",
            "--held-out-templates",
            "us_b",
            "--no-fhir-files",
        ],
    )
    assert result.exit_code == 0, result.output
    card = json.loads((out / "card.json").read_text())
    assert card["letters"] == 12 and card["seed"] == 5 and card["split_shares"] == [0.5, 0.25, 0.25]
    assert card["held_out_in_test"]["layouts"] == ["us_b"]
    assert not (out / "gold").exists()
    assert "12 letters" in result.output


def test_synth_without_a_source_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", "--letters", "3", "-o", str(tmp_path / "ds")])
    assert result.exit_code == 2
    assert "no source" in result.output
    assert "Traceback" not in result.output


def test_synth_with_a_bad_split_is_a_usage_error(oncology_dir: Path, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["synth", "--fhir", str(oncology_dir), "--letters", "3", "-o", str(tmp_path), "--split", "0.9,0.9"],
    )
    assert result.exit_code == 2
    assert "split" in result.output


def test_synth_with_a_split_that_is_not_numbers_names_the_option(oncology_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["synth", "--fhir", str(oncology_dir), "--letters", "3", "-o", str(tmp_path), "--split", "1,x"],
    )
    assert result.exit_code == 2
    assert "--split '1,x' is not three numbers" in result.output and "could not convert" not in result.output
