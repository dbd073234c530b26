"""`clinex evaluate`: score predictions against gold and write a report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from clinex.cli._errors import user_errors
from clinex.core.errors import ConfigError, EvaluationError, InputError


def _runs(values: list[str]) -> dict[str, Path]:
    runs: dict[str, Path] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or Path(value).exists():
            name, path = Path(value).stem, value
        if name in runs:
            raise ConfigError(f"two --pred runs are named {name!r}", hint="name them: --pred NAME=PATH")
        runs[name] = Path(path)
    return runs


def _names(value: str | None) -> tuple[str, ...] | None:
    """A comma-separated option as a tuple of names (None where the option is not given)."""
    return None if value is None else tuple(n.strip() for n in value.split(",") if n.strip())


def _check_input(path: Path, given_format: str | None, *, option: str) -> None:
    """A missing path, or a format that cannot be told, named with the option that fixes it."""
    from clinex.corpora import FORMATS, detect_format

    if not path.exists():
        raise InputError(f"{option} {path}: no such file or directory", hint="check the path and try again")
    if given_format is None:
        try:
            detect_format(path)
        except EvaluationError as exc:
            raise EvaluationError(
                exc.message,
                hint=f"give {option}-format ({'|'.join(FORMATS)}), or name the file .jsonl/.json/.ann/.tsv",
            ) from None


def evaluate(
    gold: Annotated[
        Path,
        typer.Option(
            "--gold", help="Gold annotations: JSONL, FHIR, BRAT, MACCROBAT2020, CodiEsp TSV or NegEx TSV."
        ),
    ],
    pred: Annotated[
        list[str],
        typer.Option("--pred", help="Predictions as PATH or NAME=PATH; repeat to compare runs side by side."),
    ],
    report: Annotated[
        Path | None, typer.Option("--report", help="Folder for metrics.json and report.html.")
    ] = None,
    gold_format: Annotated[
        str | None,
        typer.Option("--gold-format", help="jsonl|fhir|brat|maccrobat|codiesp|negex (default: detected)."),
    ] = None,
    pred_format: Annotated[
        str | None,
        typer.Option("--pred-format", help="jsonl|fhir|brat|maccrobat|codiesp|negex (default: detected)."),
    ] = None,
    match: Annotated[
        str, typer.Option("--match", help="Span matching: strict|lenient|normalised.")
    ] = "strict",
    text: Annotated[
        Path | None,
        typer.Option("--text", help="Folder of <id>.txt notes (for sections, lengths, examples)."),
    ] = None,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="Bootstrap resamples for intervals (0: none).")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 0,
    level: Annotated[float, typer.Option("--level", help="Confidence level of the intervals.")] = 0.95,
    examples: Annotated[
        int, typer.Option("--examples", help="Error examples per kind in the HTML report.")
    ] = 20,
    types: Annotated[
        str | None,
        typer.Option(
            "--types",
            help="Entity types the gold annotates, comma-separated (e.g. condition,medication); "
            "only these are scored. Default: the types the gold holds.",
        ),
    ] = None,
    categories: Annotated[
        str | None,
        typer.Option(
            "--categories",
            help="Categories to score, comma-separated (e.g. entities,diagnoses). Default: every "
            "one the gold can score.",
        ),
    ] = None,
    period: Annotated[
        str, typer.Option("--period", help="Subgroups of the note date: year|quarter.")
    ] = "year",
    min_group_docs: Annotated[
        int,
        typer.Option(
            "--min-group-docs", help="Documents a subgroup needs to enter the largest-gap comparison."
        ),
    ] = 10,
) -> None:
    """Score predictions against gold: P/R/F1 per category with bootstrap intervals, code sets, assertion, slices, subgroups."""
    from clinex.eval import EvalOptions, evaluate_paths, print_report, write_report
    from clinex.eval.matching import check_mode

    with user_errors():
        runs = _runs(pred)
        _check_input(gold, gold_format, option="--gold")
        for path in runs.values():
            _check_input(path, pred_format, option="--pred")
        options = EvalOptions(
            match=check_mode(match),
            bootstrap=bootstrap,
            seed=seed,
            level=level,
            examples=examples,
            types=_names(types),
            categories=_names(categories),
            period=period,  # type: ignore[arg-type]  # EvalOptions checks it
            min_group_documents=min_group_docs,
        )
        result = evaluate_paths(
            gold,
            runs,
            gold_format=gold_format,
            pred_format=pred_format,
            text_dir=text,
            options=options,
        )
        # A pipe or a file gets wide tables instead of rich's 80 columns.
        print_report(result, Console(width=None if sys.stdout.isatty() else 160))
        if report is not None:
            metrics, html = write_report(result, report)
            typer.echo(f"wrote {metrics} and {html}")
