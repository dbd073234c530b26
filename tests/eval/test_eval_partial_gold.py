"""Partial gold: what the gold does not annotate is not evaluated (null, with a reason), and
``types``/``categories`` restrict scoring explicitly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from clinex.cli.app import app
from clinex.core.errors import ConfigError
from clinex.core.systems import ICD10CM, LOINC, RXNORM
from clinex.core.types import Code, Document, Entity
from clinex.corpora import Corpus, write_jsonl
from clinex.eval import EvalOptions, evaluate, evaluate_paths, print_report, render_html

NOTE = "Asthma and gout. Metformin 500 mg. HbA1c 7.2 %. Appendectomy."
OPTIONS = EvalOptions(bootstrap=0)


def span(text: str, type_: str = "condition", **kwargs: object) -> Entity:
    start = NOTE.index(text)
    return Entity(type=type_, text=text, start=start, end=start + len(text), **kwargs)  # type: ignore[arg-type]


def corpus(docs: dict[str, list[Entity]]) -> Corpus:
    return Corpus(
        documents={d: Document(id=d, text=NOTE, entities=e) for d, e in docs.items()},
        source="c",
        format="jsonl",
    )


ASTHMA = Code(system=ICD10CM, code="J45.909")
GOUT = Code(system=ICD10CM, code="M10.9")
# Predictions of every type: conditions (one right with its code, one with a wrong code), a
# medication with code and dose, a lab with value and unit, a procedure with a code.
PRED = corpus(
    {
        "n1": [
            span("Asthma", code=ASTHMA),
            span("gout", code=Code(system=ICD10CM, code="E11.9")),
            span(
                "Metformin",
                "medication",
                code=Code(system=RXNORM, code="6809"),
                attributes={"dose": "500 mg"},
            ),
            span(
                "HbA1c",
                "lab",
                code=Code(system=LOINC, code="4548-4"),
                attributes={"value": "7.2", "unit": "%"},
            ),
            span("Appendectomy", "procedure", code=Code(system="http://snomed.info/sct", code="80146002")),
        ],
        "n2": [span("Asthma", code=ASTHMA)],
    }
)


def test_conditions_only_gold_scores_conditions_and_leaves_the_rest_out() -> None:
    # Gold: n1 asthma and gout, n2 nothing of its own (the predicted asthma is spurious).
    gold = corpus({"n1": [span("Asthma", code=ASTHMA), span("gout", code=GOUT)], "n2": []})
    run = evaluate(gold, PRED, OPTIONS).runs[0]
    assert run.types == ("condition",) and run.types_from == "gold"
    entities = run.categories["entities"]
    # Over conditions only: asthma and gout right in n1 (tp 2), asthma in n2 spurious (fp 1).
    assert (entities.micro.tp, entities.micro.fp, entities.micro.fn) == (2, 1, 0)
    assert "over the annotated types: condition" in entities.description
    diagnoses = run.categories["diagnoses"].micro
    assert (diagnoses.tp, diagnoses.fp, diagnoses.fn) == (1, 2, 1)  # gout's code is wrong
    assert run.not_evaluated["entities:medication"] == "gold has no medication entities"
    assert run.not_evaluated["medications:code"] == "gold has no medication entities"
    assert run.not_evaluated["labs"] == "gold has no lab entities"
    assert run.not_evaluated["codes:procedures"] == "gold has no procedure entities"
    assert set(run.categories) == {"entities", "entities:condition", "diagnoses", "diagnoses:3char"} | {
        "codes:diagnoses",
        "codes:diagnoses:3char",
    }
    metrics = run.metrics()
    assert metrics["entities.p"] == pytest.approx(2 / 3)
    assert metrics["medications:code.p"] is None and metrics["entities:lab.f"] is None
    # The medication, lab and procedure predictions are not examples of errors either.
    assert {e.entity_type for e in run.examples} == {"condition"}


def test_gold_without_codes_does_not_score_coded_predictions() -> None:
    gold = corpus({"n1": [span("Asthma"), span("gout"), span("Metformin", "medication")], "n2": []})
    run = evaluate(gold, PRED, OPTIONS).runs[0]
    for name in ("diagnoses", "diagnoses:3char", "codes:diagnoses", "codes:diagnoses:3char"):
        assert run.not_evaluated[name] == "gold has no ICD-10-CM codes"
    assert run.not_evaluated["medications:code"] == "gold has no RxNorm or ATC codes"
    assert run.not_evaluated["medications+dose"] == "gold has no medication doses"
    assert run.not_evaluated["attribute:dose"] == "gold has no dose attributes"
    entities = run.categories["entities"].micro  # condition and medication: 3 right, n2's asthma spurious
    assert (entities.tp, entities.fp, entities.fn) == (3, 1, 0)
    data = evaluate(gold, PRED, OPTIONS).to_dict()["runs"]["predictions"]
    assert data["categories"]["diagnoses"] == {
        "evaluated": False,
        "reason": "gold has no ICD-10-CM codes",
        "p": None,
        "r": None,
        "f": None,
    }
    assert data["categories"]["entities"]["evaluated"] is True
    assert data["not_evaluated"]["diagnoses"] == "gold has no ICD-10-CM codes"


def test_types_name_what_the_gold_annotates() -> None:
    gold = corpus({"n1": [span("Asthma", code=ASTHMA), span("HbA1c", "lab")], "n2": []})
    run = evaluate(gold, PRED, EvalOptions(bootstrap=0, types=("condition", "medication"))).runs[0]
    assert run.types == ("condition", "medication") and run.types_from == "--types"
    entities = run.categories["entities"].micro
    # asthma right, gout and n2's asthma spurious, metformin spurious (the gold names medications
    # as annotated, and has none); the gold lab is out of scope.
    assert (entities.tp, entities.fp, entities.fn) == (1, 3, 0)
    assert run.categories["entities:medication"].micro.fp == 1
    assert run.not_evaluated["entities:lab"] == "not in --types"
    assert run.not_evaluated["labs"] == "not in --types"


def test_categories_choose_what_is_scored() -> None:
    gold = corpus({"n1": [span("Asthma", code=ASTHMA), span("gout", code=GOUT)], "n2": []})
    run = evaluate(gold, PRED, EvalOptions(bootstrap=0, categories=("entities", "diagnoses"))).runs[0]
    assert list(run.categories) == ["entities", "diagnoses"]
    assert run.not_evaluated["entities:condition"] == "not in --categories"
    assert run.not_evaluated["codes:diagnoses"] == "not in --categories"
    assert run.categories["entities"].micro.tp == 2


def test_span_less_gold_scores_codes_only() -> None:
    codes = Corpus(
        documents={
            "n1": Document(
                id="n1",
                text=NOTE,
                entities=[Entity(type="condition", text="j45.909", alignment="none", code=ASTHMA)],
            )
        },
        source="goldD.tsv",
        format="codiesp",
        sparse=True,
    )
    run = evaluate(codes, corpus({"n1": PRED.documents["n1"].entities}), OPTIONS).runs[0]
    assert run.not_evaluated["entities:condition"] == "gold has no spans (document-level codes only)"
    assert run.not_evaluated["medications:code"] == "gold has no medication entities"
    assert run.reference == "diagnoses"
    assert (run.categories["codes:diagnoses"].micro.tp, run.categories["codes:diagnoses"].micro.fp) == (1, 1)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"types": ("condition", "drug")}, "types: unknown entity type 'drug'"),
        ({"categories": ("entities", "dx", "meds")}, "categories: unknown categories 'dx', 'meds'"),
        ({"types": ()}, "types names no entity type"),
    ],
)
def test_unknown_names_are_config_errors_listing_the_valid_ones(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        EvalOptions(**options)  # type: ignore[arg-type]
    assert message in error.value.message
    assert error.value.hint is not None
    assert (
        "condition, medication" if "types" in options else "entities, entities:condition"
    ) in error.value.hint


def test_reports_say_what_is_not_evaluated_and_why() -> None:
    gold = corpus({"n1": [span("Asthma"), span("gout")], "n2": []})
    report = evaluate(gold, PRED, OPTIONS)
    console = Console(record=True, width=250)
    print_report(report, console)
    text = console.export_text()
    assert "entity types scored: condition (the types the gold annotates)" in text
    assert "not evaluated, gold has no ICD-10-CM codes: diagnoses, diagnoses:3char, codes:diagnoses" in text
    assert "not evaluated, gold has no medication entities: entities:medication" in text
    html = render_html(report)
    assert "Not evaluated" in html and "gold has no ICD-10-CM codes" in html
    assert "Partial gold:" in html


def test_cli_types_and_categories(tmp_path: Path) -> None:
    gold, pred = tmp_path / "gold.jsonl", tmp_path / "pred.jsonl"
    write_jsonl([Document(id="n1", text=NOTE, entities=[span("Asthma", code=ASTHMA)])], gold, with_text=True)
    write_jsonl([Document(id="n1", text=NOTE, entities=PRED.documents["n1"].entities)], pred)
    out = tmp_path / "report"
    runner = CliRunner()
    args = ["evaluate", "--gold", str(gold), "--pred", str(pred), "--bootstrap", "0", "--report", str(out)]
    result = runner.invoke(app, [*args, "--types", "condition, lab", "--categories", "entities,labs"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())["runs"]["pred"]
    assert metrics["types"] == ["condition", "lab"] and metrics["types_from"] == "--types"
    # asthma right; gout and the lab (a type the options name as annotated) spurious
    assert metrics["metrics"]["entities.tp"] == 1 and metrics["metrics"]["entities.fp"] == 2
    assert metrics["not_evaluated"]["labs"] == "gold has no lab values or units"
    assert metrics["categories"]["diagnoses"]["reason"] == "not in --categories"
    bad = runner.invoke(app, [*args, "--categories", "entities,diagnosis"])
    assert bad.exit_code != 0 and "unknown category 'diagnosis'" in bad.output
    assert "diagnoses" in bad.output and "Traceback" not in bad.output
    bad = runner.invoke(app, [*args, "--types", "conditions"])
    assert bad.exit_code != 0 and "unknown entity type 'conditions'" in bad.output


def test_codiesp_gold_against_predictions_of_every_type(tmp_path: Path) -> None:
    (tmp_path / "goldD.tsv").write_text("n1\tj45.909\nn1\tm10.9\n")
    pred = tmp_path / "pred.jsonl"
    write_jsonl([Document(id="n1", text=NOTE, entities=PRED.documents["n1"].entities)], pred)
    run = evaluate_paths(tmp_path / "goldD.tsv", {"rules": pred}, options=OPTIONS).runs[0]
    codes = run.categories["codes:diagnoses"].micro
    assert (codes.tp, codes.fp, codes.fn) == (1, 1, 1)
    assert set(run.categories) == {"diagnoses", "diagnoses:3char", "codes:diagnoses", "codes:diagnoses:3char"}
    assert run.not_evaluated["medications:code"] == "gold has no medication entities"
    assert run.not_evaluated["procedures"] == "gold has no procedure entities"
