"""`clinex monitor`: compare this period's notes and extractions with a reference period's."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clinex.cli._errors import stderr, user_errors
from clinex.core.errors import ConfigError

#: Exit code of a run with an alarm, so that a scheduler can act on it.
ALARM_EXIT = 3


def _sides(name: str, positional: Path | None, pair: tuple[Path, Path] | None) -> tuple[Path, Path | None]:
    if (positional is None) == (pair is None):
        raise ConfigError(
            f"give {name} once: as a prediction set that holds its notes ({name} positional), "
            f"or as --{name.lower()} NOTES PRED",
            hint="e.g. clinex monitor last_month/ this_month/ --report out/monitor",
        )
    if pair is not None:
        return pair[1], pair[0]
    assert positional is not None
    return positional, None


def monitor(
    ref_set: Annotated[
        Path | None,
        typer.Argument(
            metavar="[REF]",
            help="Reference predictions that hold their notes (FHIR output of clinex extract, or JSONL with text).",
            show_default=False,
        ),
    ] = None,
    cur_set: Annotated[
        Path | None,
        typer.Argument(metavar="[CUR]", help="Current predictions, as REF.", show_default=False),
    ] = None,
    ref: Annotated[
        tuple[Path, Path] | None,
        typer.Option(
            "--ref", help="Reference NOTES (any input clinex extract reads) and PRED (JSONL or FHIR)."
        ),
    ] = None,
    cur: Annotated[
        tuple[Path, Path] | None, typer.Option("--cur", help="Current NOTES and PRED, as --ref.")
    ] = None,
    report: Annotated[
        Path | None, typer.Option("--report", help="Folder for monitor.json and monitor.html.")
    ] = None,
    permutations: Annotated[
        int,
        typer.Option(
            "--permutations", min=0, help="Label permutations of the domain classifier's chance level."
        ),
    ] = 20,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the classifier folds, permutations and bootstrap.")
    ] = 0,
) -> None:
    """Watch production batches for drift: input (length, headers, abbreviations, unknown words,
    a domain classifier), output (facts per type, ICD-10-CM chapters, assertions, grounding,
    confidence) and estimated precision, each ok / warn / alarm.

    Exit codes: 0 no alarm; 3 an alarm; 2 a usage or input error. The inputs are only read.
    """
    from clinex.monitor import load_set, write_report
    from clinex.monitor import monitor as run_monitor

    with user_errors():
        ref_pred, ref_notes = _sides("REF", ref_set, ref)
        cur_pred, cur_notes = _sides("CUR", cur_set, cur)
        result = run_monitor(
            load_set("REF", ref_pred, ref_notes),
            load_set("CUR", cur_pred, cur_notes),
            permutations=permutations,
            seed=seed,
        )
        for warning in result.warnings:
            stderr.print(f"warning: {warning}")
        for signal in sorted(result.signals, key=lambda s: s.name):
            effect = "—" if signal.effect is None else f"{signal.effect:.3f}"
            typer.echo(f"{signal.status:6} {signal.name:28} {signal.statistic:28} {effect}")
        typer.echo(f"{result.status.upper()}: {result.verdict()}")
        if report is not None:
            json_path, html_path = write_report(result, report)
            typer.echo(f"wrote {json_path} and {html_path}")
    if result.status == "alarm":
        raise typer.Exit(ALARM_EXIT)
