"""--engine ray refusals that need no cluster: bad arguments, an output directory holding
something else, an unreachable address; each before Ray starts and before anything is written."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from clinex.batch.ray import extract_on_ray
from clinex.core.errors import ConfigError, InputError
from clinex.testing import FixedEntitiesExtractor

ray = pytest.importorskip("ray", reason="--engine ray needs Ray Data: pip install 'clinex[ray]'")

TABLE = {"asthma": {"type": "condition"}}


def _notes(path: Path, count: int) -> Path:
    path.write_text(
        "".join(json.dumps({"id": f"n{i}", "text": "Asthma."}) + "\n" for i in range(count)), encoding="utf-8"
    )
    return path


def test_bad_arguments_are_refused_before_ray_starts(tmp_path: Path) -> None:
    notes = _notes(tmp_path / "notes.jsonl", 3)
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("someone's file", encoding="utf-8")
    (tmp_path / "notes.xml").write_text("<note/>", encoding="utf-8")
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"inputs": [notes], "out_dir": other}, ConfigError, "holds files that are not a clinex run"),
        (
            {"inputs": [tmp_path / "notes.xml"], "out_dir": tmp_path / "o1"},
            InputError,
            r"unknown input format '\.xml'",
        ),
        ({"inputs": ["-"], "out_dir": tmp_path / "o2"}, InputError, "cannot read standard input"),
        (
            {"inputs": [notes], "out_dir": tmp_path / "o3", "fmt": "csv"},
            ConfigError,
            "cannot write --format csv",
        ),
        ({"inputs": [notes], "out_dir": notes}, ConfigError, "is a file"),
    ]
    for kwargs, error, message in cases:
        with pytest.raises(error, match=message):
            extract_on_ray(extractor=FixedEntitiesExtractor(TABLE), **kwargs)
    assert not ray.is_initialized()  # refused before Ray was started
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.jsonl", "notes.xml", "other"]
    assert [p.name for p in other.iterdir()] == ["keep.txt"]


def test_an_unreachable_address_is_a_quick_one_line_error(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    notes = _notes(tmp_path / "notes.jsonl", 2)
    started = time.monotonic()
    with pytest.raises(ConfigError, match=f"cannot reach the Ray cluster at 127.0.0.1:{port}"):
        extract_on_ray(
            [notes], tmp_path / "out", extractor=FixedEntitiesExtractor(TABLE), address=f"127.0.0.1:{port}"
        )
    assert time.monotonic() - started < 30
    assert not (tmp_path / "out").exists()


def test_ray_is_imported_only_when_a_ray_run_starts() -> None:
    import subprocess
    import sys

    code = "import sys, clinex.batch, clinex.batch.ray, clinex.cli.app; print('ray' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_ray_options_without_the_ray_engine_are_a_usage_error(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from clinex.cli.app import app

    notes = _notes(tmp_path / "notes.jsonl", 1)
    for option in (
        ["--workers", "2"],
        ["--gpus-per-worker", "1"],
        ["--address", "127.0.0.1:1"],
        ["--partition-size", "5"],
    ):
        result = CliRunner().invoke(app, ["extract", str(notes), "-e", "rules", *option])
        assert result.exit_code == 2 and f"{option[0]} is an option of --engine ray" in result.output
    result = CliRunner().invoke(app, ["extract", str(notes), "--engine", "ray"])
    assert result.exit_code == 2 and "--engine ray writes partitions into a directory" in result.output


def test_an_input_without_notes_is_a_warning_and_a_complete_empty_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from clinex.cli.app import app

    def no_cluster(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a run with nothing to do started Ray")

    monkeypatch.setattr(ray, "init", no_cluster)

    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["extract", str(empty), "--engine", "ray", "-e", "rules", "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 0 and "no notes in the input" in result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["complete"] and manifest["input"]["notes"] == 0
