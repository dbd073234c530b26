"""The terminal summary of a report (rich tables)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from clinex.eval._format import interval, number, p_value
from clinex.eval.results import Report, RunResult


def print_report(report: Report, console: Console) -> None:
    """One table per run, then a side-by-side table with paired tests when there are several."""
    console.print(
        f"gold: {report.gold} ({report.gold_format}, {report.documents} documents), "
        f"match: {report.options['match']}, bootstrap: {report.options['bootstrap']}"
    )
    for run in report.runs:
        console.print(_run_table(run, report.options["level"]))
        extras = []
        if run.assertion is not None:
            extras.append(
                f"assertion accuracy {number(run.assertion.accuracy)} on {run.assertion.total} pairs"
            )
        if run.calibration is not None:
            extras.append(f"ECE {number(run.calibration.ece)} on {run.calibration.count} predictions")
        if run.unscored:
            extras.append(f"nothing to score in: {', '.join(run.unscored)}")
        for line in extras:
            console.print(f"  {line}")
    if len(report.runs) > 1:
        console.print(_comparison_table(report))


def _run_table(run: RunResult, level: float) -> Table:
    table = Table(title=f"{run.name} ({run.source})", title_justify="left")
    for column in ("category", "P", "R", "F1", f"F1 {level:.0%} CI", "macro F1", "TP", "FP", "FN", "MAP"):
        table.add_column(column, justify="left" if column == "category" else "right")
    for name, result in {**run.categories, **run.slices}.items():
        micro = result.micro
        table.add_row(
            name,
            number(micro.precision),
            number(micro.recall),
            number(micro.fscore),
            interval(result.ci.get("f")),
            number(result.macro["f"]),
            str(micro.tp),
            str(micro.fp),
            str(micro.fn),
            "" if result.map is None else number(result.map),
        )
    return table


def _comparison_table(report: Report) -> Table:
    baseline = report.runs[0]
    table = Table(
        title=f"micro F1 side by side (paired bootstrap against {baseline.name})", title_justify="left"
    )
    table.add_column("category")
    for run in report.runs:
        table.add_column(run.name, justify="right")
    for run in report.runs[1:]:
        table.add_column(f"Δ {run.name}", justify="right")
        table.add_column("p", justify="right")
    tests = {(t.other, t.category): t for t in report.tests}
    names = list(dict.fromkeys(n for run in report.runs for n in run.categories))
    for name in names:
        row = [name]
        for run in report.runs:
            result = run.categories.get(name)
            row.append("" if result is None else number(result.micro.fscore))
        for run in report.runs[1:]:
            test = tests.get((run.name, name))
            row += (
                ["", ""]
                if test is None
                else [f"{number(test.delta)} {interval(test.interval)}", p_value(test.p_value)]
            )
        table.add_row(*row)
    return table
