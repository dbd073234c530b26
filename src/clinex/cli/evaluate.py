"""`clinex evaluate`: score predictions against gold and write a report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from clinex.cli._errors import user_errors
from clinex.core.errors import ConfigError


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


def evaluate(
    gold: Annotated[
        Path, typer.Option("--gold", help="Gold annotations: JSONL, FHIR, BRAT, CodiEsp TSV or NegEx TSV.")
    ],
    pred: Annotated[
        list[str],
        typer.Option("--pred", help="Predictions as PATH or NAME=PATH; repeat to compare runs side by side."),
    ],
    report: Annotated[
        Path | None, typer.Option("--report", help="Folder for metrics.json and report.html.")
    ] = None,
    gold_format: Annotated[
        str | None, typer.Option("--gold-format", help="jsonl|fhir|brat|codiesp|negex (default: detected).")
    ] = None,
    pred_format: Annotated[
        str | None, typer.Option("--pred-format", help="jsonl|fhir|brat|codiesp|negex (default: detected).")
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
) -> None:
    """Score predictions against gold: P/R/F1 per category with bootstrap intervals, code sets, assertion, slices."""
    from clinex.eval import EvalOptions, evaluate_paths, print_report, write_report
    from clinex.eval.matching import check_mode

    with user_errors():
        options = EvalOptions(
            match=check_mode(match), bootstrap=bootstrap, seed=seed, level=level, examples=examples
        )
        result = evaluate_paths(
            gold,
            _runs(pred),
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
