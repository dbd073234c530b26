"""`clinex extract`: notes in, FHIR Bundles or JSONL out (the work is in clinex.batch).

Exit codes: 0 every note done (or skipped on --resume); 1 some notes failed, the rest were
written; 2 a usage error, or no note could be done.
"""

from __future__ import annotations

import itertools
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from clinex.batch import BatchSummary, NoteOutcome, open_writer, run_batch
from clinex.cli._errors import stderr, user_errors
from clinex.inputs import read_inputs
from clinex.pipeline import load_extractor


class OutputFormat(StrEnum):
    fhir = "fhir"
    jsonl = "jsonl"


class BundleType(StrEnum):
    collection = "collection"
    transaction = "transaction"


def extract(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="INPUT",
            help="A .txt note, a directory of them, JSONL ({id, text} per line), FHIR JSON "
            "(DocumentReference or Bundle), or '-' for standard input.",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output file; for several notes with --format fhir a directory (one bundle per note) "
            "or FILE.ndjson. Default: standard output.",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.fhir,
    extractor: Annotated[
        str | None,
        typer.Option("--extractor", "-e", help="Extractor name: encoder (default), rules, llm (or name.vN)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model path (or server model name) for the extractor.")
    ] = None,
    bundle_type: Annotated[
        BundleType, typer.Option("--bundle-type", help="FHIR Bundle type; transaction loads into a server.")
    ] = BundleType.collection,
    resume: Annotated[
        bool, typer.Option("--resume", help="Skip notes already in the output and append the rest.")
    ] = False,
    validate: Annotated[
        bool, typer.Option("--validate/--no-validate", help="Validate each Bundle against FHIR R4 models.")
    ] = True,
    min_confidence: Annotated[
        float,
        typer.Option(
            "--min-confidence",
            min=0.0,
            max=1.0,
            help="Leave out entities less confident than this (0..1): more precision, less recall.",
        ),
    ] = 0.0,
) -> None:
    """Extract grounded, coded entities from clinical notes.

    Exit codes: 0 every note done; 1 some notes failed, the others were written;
    2 a usage error, or no note could be done. Errors name inputs, never note text.
    """
    with user_errors():
        engine = load_extractor(extractor, **({"model": model} if model else {}))
        items = read_inputs(inputs)
        first = list(itertools.islice(items, 2))
        many = len(first) > 1
        writer = open_writer(
            output_format.value,
            out,
            many=many,
            stdout=sys.stdout,
            bundle_type=bundle_type.value,
            validate=validate,
            resume=resume,
        )
    summary = BatchSummary()
    progress = Progress(
        TextColumn("extracting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not (many and stderr.is_terminal),
    )
    try:
        with user_errors(), progress:
            task = progress.add_task("notes", total=None)
            for outcome in run_batch(
                itertools.chain(first, items), engine, writer, resume=resume, min_confidence=min_confidence
            ):
                summary.add(outcome)
                if outcome.error is not None:
                    _report(outcome)
                progress.advance(task)
    finally:
        writer.close()
        _print_summary(summary)
    if summary.failed:
        raise typer.Exit(code=1 if summary.ok or summary.skipped else 2)


def _report(outcome: NoteOutcome) -> None:
    assert outcome.error is not None
    message = str(outcome.error)
    if outcome.source not in outcome.error.message:
        message = f"{outcome.source}: {message}"
    stderr.print(f"[bold red]error[/]: {message}", markup=True, highlight=False)


def _print_summary(summary: BatchSummary) -> None:
    notes = Table(title="notes", title_justify="left", show_header=False)
    notes.add_row("ok", str(summary.ok))
    notes.add_row("failed", str(summary.failed))
    if summary.skipped:
        notes.add_row("skipped (resume)", str(summary.skipped))
    entities = Table("entity type", "count", title="entities", title_justify="left")
    for name, count in summary.entity_rows():
        entities.add_row(name, str(count))
    assertions = Table("assertion", "count", title="assertions", title_justify="left")
    for name, count in summary.assertion_rows():
        assertions.add_row(name, str(count))
    grid = Table.grid(padding=(0, 4))
    grid.add_row(notes, entities, assertions)
    stderr.print(grid)
