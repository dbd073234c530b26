"""Everyday use of the CLI: inputs checked before any model loads, no traceback for any argument,
say where output went, --version, -h, --quiet, help not wrapped at 80 columns."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import clinex
from clinex.cli import app as app_module
from clinex.cli.app import app
from clinex.core.registry import extractors

SECRET = "Secret Person has metformin-resistant Pneumonia"
COMMANDS = ["extract", "synth", "train", "evaluate", "serve"]


def invoke(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), input=stdin)


def last_line(text: str) -> str:
    return [line for line in text.splitlines() if line.strip()][-1]


@pytest.fixture
def notes(tmp_path: Path) -> list[str]:
    paths = []
    for name, text in (("one", "Metformin 1000 mg."), ("two", "No aspirin.")):
        path = tmp_path / f"{name}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return paths


@pytest.fixture
def loads() -> Any:
    """An extractor name whose loading is recorded: ``name, calls``."""
    calls: list[dict[str, Any]] = []

    def factory(**options: Any) -> Any:
        calls.append(options)
        raise AssertionError("the extractor was loaded")

    with extractors.override("loads-test.v1", factory):
        yield "loads-test", calls


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"clinex {clinex.__version__}"


@pytest.mark.parametrize("command", [*COMMANDS, None])
def test_every_command_takes_h_and_help(command: str | None) -> None:
    args = [command] if command else []
    short, long = invoke(*args, "-h"), invoke(*args, "--help")
    assert short.exit_code == long.exit_code == 0
    assert short.stdout == long.stdout
    assert f"Usage: clinex {command or ''}".strip() in short.stdout


def test_a_mistyped_input_fails_at_once_before_any_model_loads(notes: list[str], loads: Any) -> None:
    name, calls = loads
    result = invoke("extract", notes[0], "notes/missing.txt", "-e", name)
    assert result.exit_code == 2
    assert last_line(result.stderr).startswith("error: [E100] notes/missing.txt: no such file or directory")
    assert calls == [] and result.stdout == ""


def test_a_bad_output_target_fails_before_any_model_loads(
    notes: list[str], loads: Any, tmp_path: Path
) -> None:
    name, calls = loads
    result = invoke("extract", *notes, "-e", name, "-o", str(tmp_path / "out.json"))
    assert result.exit_code == 2
    assert "out.json names a file, but several notes give one bundle each" in result.stderr
    assert "out.ndjson" in result.stderr and "directory" in result.stderr
    assert not (tmp_path / "out.json").exists() and calls == []


@pytest.mark.parametrize(
    "args",
    [
        ["extract", "{note}", "--extractor", "rules", "--model", "X"],
        ["extract", "{note}", "--engine", "nonesuch"],
        ["extract", "{note}", "--format", "xml"],
        ["extract", "{note}", "--min-confidence", "nan"],
        ["extract"],
        ["serve", "--port", "99999"],
        ["serve", "--port", "http"],
        ["serve", "--extractor", "nonesuch"],
        ["evaluate", "--gold", "missing.jsonl", "--pred", "missing.jsonl"],
        ["synth", "-o", "{dir}", "-n", "-3"],
        ["nonesuch"],
    ],
    ids=lambda args: " ".join(args),
)
def test_no_argument_combination_gives_a_traceback(args: list[str], notes: list[str], tmp_path: Path) -> None:
    result = invoke(*[a.format(note=notes[0], dir=tmp_path / "ds") for a in args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def test_the_rules_extractor_takes_no_model(notes: list[str]) -> None:
    result = invoke("extract", notes[0], "--extractor", "rules", "--model", "X")
    assert "extractor rules.v2 has no option 'model'" in result.stderr


def test_serve_refuses_a_port_out_of_range() -> None:
    result = invoke("serve", "--port", "99999")
    assert "--port" in result.stderr and "65535" in result.stderr


def test_the_last_line_says_how_many_notes_went_where(
    notes: list[str], fixed_extractor_name: str, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    result = invoke("extract", *notes, "-e", fixed_extractor_name, "-f", "jsonl", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert last_line(result.stderr) == f"2 notes written to {out}"
    to_stdout = invoke("extract", notes[0], "-e", fixed_extractor_name)
    assert last_line(to_stdout.stderr) == "1 note written to standard output"
    bundles = tmp_path / "bundles"
    empty = tmp_path / "empty.txt"
    empty.write_text(" ", encoding="utf-8")
    some_failed = invoke("extract", *notes, str(empty), "-e", fixed_extractor_name, "-o", str(bundles))
    assert some_failed.exit_code == 1
    assert last_line(some_failed.stderr) == f"2 notes written to {bundles}/; 1 failed"


@pytest.mark.parametrize(
    ("fmt", "name"), [("jsonl", "out.jsonl"), ("fhir", "out.ndjson"), ("fhir", "bundles"), ("csv", "out.csv")]
)
def test_a_run_in_which_every_note_fails_leaves_no_file(
    fmt: str, name: str, fixed_extractor_name: str, tmp_path: Path
) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text(json.dumps({"id": "a", "text": " "}) + "\n{" + SECRET + "\n", encoding="utf-8")
    out = tmp_path / "run" / name
    result = invoke("extract", str(source), "-e", fixed_extractor_name, "-f", fmt, "-o", str(out))
    assert result.exit_code == 2
    assert last_line(result.stderr) == "nothing written; 2 failed"
    assert not (tmp_path / "run").exists()
    assert SECRET not in result.output and "Secret" not in result.stderr


def test_quiet_prints_errors_only(notes: list[str], fixed_extractor_name: str, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    quiet = invoke("extract", *notes, "-e", fixed_extractor_name, "-f", "jsonl", "-o", str(out), "--quiet")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2
    missing_text = tmp_path / "empty.txt"
    missing_text.write_text("", encoding="utf-8")
    failing = invoke("extract", str(missing_text), notes[0], "-e", fixed_extractor_name, "-q")
    assert failing.exit_code == 1
    assert [line for line in failing.stderr.splitlines() if line] == [
        f"error: [E101] {missing_text}: note 'empty' is empty (hint: give a note with text)"
    ]


def test_an_input_without_notes_says_so(fixed_extractor_name: str, tmp_path: Path) -> None:
    source = tmp_path / "none.jsonl"
    source.write_text("\n", encoding="utf-8")
    result = invoke("extract", str(source), "-e", fixed_extractor_name, "-o", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 0
    assert "no notes in the input" in result.stderr and not (tmp_path / "o.jsonl").exists()


def test_evaluate_hints_name_options_that_exist(tmp_path: Path) -> None:
    gold = tmp_path / "gold.xyz"
    gold.write_text("?", encoding="utf-8")
    result = invoke("evaluate", "--gold", str(gold), "--pred", str(gold))
    assert result.exit_code == 2
    assert "cannot tell the format of gold.xyz" in result.stderr
    assert "--gold-format (" in result.stderr and "--format" not in result.stderr.replace("-format", "")
    missing = invoke("evaluate", "--gold", str(tmp_path / "nope.jsonl"), "--pred", str(gold))
    assert missing.exit_code == 2 and "--gold" in missing.stderr and "no such file" in missing.stderr


def test_an_unexpected_error_is_one_line_without_its_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def crash() -> None:
        raise ValueError(SECRET)

    monkeypatch.setattr(app_module, "app", crash)
    monkeypatch.delenv(app_module.DEBUG_ENV, raising=False)
    with pytest.raises(SystemExit) as exit_:
        app_module.main()
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "[E001] clinex failed unexpectedly (ValueError)" in err
    assert "Secret" not in err and "Traceback" not in err


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "TERMINAL_WIDTH", "LINES")}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_commands_import_no_model_code_until_they_run() -> None:
    heavy = (
        "torch",
        "transformers",
        "simple_icd_10_cm",
        "medspacy",
        "fastapi",
        "clinex.synth",
        "clinex.eval",
    )
    code = (
        "import sys; from typer.testing import CliRunner; from clinex.cli.app import app; "
        "r = CliRunner().invoke(app, ['extract', 'missing.txt']); "
        f"print(r.exit_code, sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    result = run_python(code)
    assert result.stdout.split(maxsplit=1) == ["2", "[]\n"], result.stderr


def test_piped_help_is_not_wrapped_at_80_columns() -> None:
    result = run_python(
        "import sys; sys.argv = ['clinex', 'extract', '--help']; from clinex.cli.app import main; main()"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) > 80
    for sentence in ("Errors name inputs, never note text.", "Validate each Bundle against FHIR R4 models."):
        assert any(sentence in line for line in lines), sentence
