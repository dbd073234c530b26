import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clinex.cli.app import app
from clinex.core.systems import ICD10CM
from clinex.core.types import Assertion, Code, Document, Entity
from clinex.corpora import write_jsonl

NOTE = "Patient denies chest pain. Known type 2 diabetes on metformin."
runner = CliRunner()


def entity(text: str, type_: str = "condition", **kwargs: object) -> Entity:
    start = NOTE.index(text)
    return Entity(type=type_, text=text, start=start, end=start + len(text), **kwargs)  # type: ignore[arg-type]


def write(path: Path, entities: list[Entity]) -> Path:
    write_jsonl([Document(id="n1", text=NOTE, entities=entities)], path, with_text=True)
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    gold = write(
        tmp_path / "gold.jsonl",
        [
            entity("chest pain", assertion=Assertion(negated=True)),
            entity("type 2 diabetes", code=Code(system=ICD10CM, code="E11.9")),
            entity("metformin", "medication"),
        ],
    )
    rules = write(
        tmp_path / "rules.jsonl", [entity("chest pain", confidence=0.7), entity("metformin", "medication")]
    )
    return gold, rules


def test_evaluate_prints_a_table_and_writes_the_report(files: tuple[Path, Path], tmp_path: Path) -> None:
    gold, rules = files
    out = tmp_path / "report"
    result = runner.invoke(
        app,
        ["evaluate", "--gold", str(gold), "--pred", str(rules), "--report", str(out), "--bootstrap", "20"],
    )
    assert result.exit_code == 0, result.output
    assert "entities" in result.output and "0.800" in result.output  # F1 = 2*2 / (4 + 0 + 1)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["runs"]["rules"]["metrics"]["entities.f"] == pytest.approx(0.8)
    assert metrics["runs"]["rules"]["assertion"]["accuracy"] == pytest.approx(0.5)
    html = (out / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3  # bars, assertion confusion, reliability
    assert "<mark>type 2 diabetes</mark>" in html  # the missed entity with its evidence
    assert "chest pain" not in json.dumps(metrics["runs"]["rules"]["errors"])  # no note text in metrics


def test_named_runs_are_compared_side_by_side(files: tuple[Path, Path], tmp_path: Path) -> None:
    gold, rules = files
    args = [
        "evaluate",
        "--gold",
        str(gold),
        "--pred",
        f"rules={rules}",
        "--pred",
        f"oracle={gold}",
        "--bootstrap",
        "20",
    ]
    result = runner.invoke(app, [*args, "--report", str(tmp_path / "cmp")])
    assert result.exit_code == 0, result.output
    assert "Δ oracle" in result.output
    metrics = json.loads((tmp_path / "cmp" / "metrics.json").read_text())
    assert set(metrics["runs"]) == {"rules", "oracle"}
    assert any(
        t["category"] == "entities" and t["delta"] == pytest.approx(0.2) for t in metrics["paired_tests"]
    )


def test_bad_input_is_one_line_and_exit_code_2(files: tuple[Path, Path], tmp_path: Path) -> None:
    gold, _ = files
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "n1", "entities": [{"type": "allergy", "text": "x"}]}\n')
    result = runner.invoke(app, ["evaluate", "--gold", str(gold), "--pred", str(bad)])
    assert result.exit_code == 2
    assert "bad.jsonl:1" in result.output and "Traceback" not in result.output
    other = write(tmp_path / "other.jsonl", [])
    other.write_text(other.read_text().replace('"n1"', '"n2"'))
    result = runner.invoke(app, ["evaluate", "--gold", str(gold), "--pred", str(other)])
    assert result.exit_code == 2
    assert "other.jsonl:1 (id 'n2' is not in the gold)" in result.output


def test_unknown_match_mode_is_refused(files: tuple[Path, Path]) -> None:
    gold, rules = files
    result = runner.invoke(app, ["evaluate", "--gold", str(gold), "--pred", str(rules), "--match", "fuzzy"])
    assert result.exit_code == 2
    assert "unknown match mode 'fuzzy'" in result.output
