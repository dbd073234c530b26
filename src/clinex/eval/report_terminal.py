"""The terminal summary of a report (rich tables)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from clinex.core.types import ENTITY_TYPES
from clinex.eval._format import by_reason, interval, names, number, p_value, scope_line
from clinex.eval.results import Report, RunResult
from clinex.eval.subgroups import Subgroups


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
        if run.calibration_by_type:
            by_type = ", ".join(
                f"{t} {number(c.ece)} (n={c.count})" for t, c in run.calibration_by_type.items()
            )
            extras.append(f"ECE by type: {by_type}")
        if run.unscored:
            extras.append(f"nothing to score in: {', '.join(run.unscored)}")
        scope = scope_line(run.types, run.types_from, ENTITY_TYPES)
        if scope is not None:
            extras.append(scope)
        for reason, left_out in by_reason(run.not_evaluated):
            extras.append(f"not evaluated, {reason}: {names(left_out)}")
        for line in extras:
            console.print(f"  {line}")
        if run.subgroups is not None:
            reference = run.reference if run.reference in run.categories else next(iter(run.categories))
            console.print(_subgroup_table(run.name, run.subgroups, reference, report.options["level"]))
            _print_gaps(console, run.subgroups, reference)
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


#: Groups a dimension may have before its small ones fold into one line of the terminal table.
_ROWS = 10


def _subgroup_table(name: str, subgroups: Subgroups, category: str, level: float) -> Table:
    """A row a group; in a dimension of more than :data:`_ROWS` groups, those smaller than
    ``min_documents`` fold into one line (they are all in metrics.json and report.html)."""
    table = Table(title=f"{name}: {category} by subgroup", title_justify="left")
    for column in ("dimension", "group", "docs", "P", "R", "F1", f"F1 {level:.0%} CI", "TP", "FP", "FN"):
        table.add_column(column, justify="left" if column in ("dimension", "group") else "right")
    for dimension, groups in subgroups.groups.items():
        shown = (
            groups if len(groups) <= _ROWS else [g for g in groups if g.documents >= subgroups.min_documents]
        )
        rows: list[list[str]] = []
        for group in shown:
            result = group.results[category]
            micro = result.micro
            rows.append(
                [
                    group.name,
                    str(group.documents),
                    number(micro.precision),
                    number(micro.recall),
                    number(micro.fscore),
                    interval(result.ci.get("f")),
                    str(micro.tp),
                    str(micro.fp),
                    str(micro.fn),
                ]
            )
        small = [g for g in groups if g not in shown]
        if small:
            plural = "s" if len(small) > 1 else ""
            label = f"({len(small)} group{plural} of < {subgroups.min_documents} docs)"
            rows.append([label, str(sum(g.documents for g in small)), *[""] * 7])
        if subgroups.missing[dimension]:
            rows.append(["(not given)", str(subgroups.missing[dimension]), *[""] * 7])
        for i, row in enumerate(rows):
            table.add_row(dimension if i == 0 else "", *row)
    return table


#: Flagged gaps of other categories shown per dimension, besides the reference category's.
_FLAGGED_SHOWN = 3


def _print_gaps(console: Console, subgroups: Subgroups, reference: str) -> None:
    """The reference category's largest gap in each dimension, and the largest flagged others."""
    shown = []
    for dimension in subgroups.groups:
        gaps = [g for g in subgroups.gaps if g.dimension == dimension]
        shown += [g for g in gaps if g.category == reference]
        others = sorted((g for g in gaps if g.flagged and g.category != reference), key=lambda g: -g.delta)
        shown += others[:_FLAGGED_SHOWN]
    if not shown:
        console.print(
            f"  largest gaps: none (a dimension needs two groups of >= {subgroups.min_documents} documents)"
        )
        return
    table = Table(
        title=f"largest gap in micro F1 per dimension: {reference}, and the largest flagged of other "
        f"categories (groups of >= {subgroups.min_documents} documents; flagged where the interval of "
        "the difference excludes 0)",
        title_justify="left",
    )
    for column in ("dimension", "category", "lower", "higher", "ΔF1", "interval", "flagged"):
        table.add_column(column, justify="right" if column in ("ΔF1", "interval") else "left")
    for gap in shown:
        table.add_row(
            gap.dimension,
            gap.category,
            f"{gap.low} ({number(gap.low_f)})",
            f"{gap.high} ({number(gap.high_f)})",
            number(gap.delta),
            interval(gap.interval),
            "yes" if gap.flagged else "no",
        )
    console.print(table)
    flagged = sum(g.flagged for g in subgroups.gaps)
    console.print(
        f"  {flagged} of {len(subgroups.gaps)} gaps flagged over all categories (all in metrics.json and "
        "report.html); the pair is picked after looking, so a flag is a lead to examine"
    )
