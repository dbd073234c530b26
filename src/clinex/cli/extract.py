"""`clinex extract`: notes in, FHIR Bundles, JSONL or a table out (the work is in clinex.batch;
``--engine ray`` in clinex.batch.ray).

Exit codes: 0 every note done (or skipped on --resume); 1 some notes failed, the rest were
written; 2 a usage error, or no note could be done.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from clinex.batch.process import DEFAULT_MAX_CHARS
from clinex.cli._errors import report, report_row, stderr, user_errors
from clinex.core.errors import ConfigError

if TYPE_CHECKING:
    from rich.progress import Progress, ProgressColumn

    from clinex.batch import BatchSummary, NoteOutcome


#: The names ``--engine`` takes for the Ray engine (it has its own entry: a directory of partitions).
_RAY = ("ray", "ray.v1")
#: Error rows printed on stderr by --engine ray; the rest are in errors.jsonl.
_ERRORS_SHOWN = 20


class OutputFormat(StrEnum):
    fhir = "fhir"
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


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
            help="Output file. With --format fhir and several notes: a directory (one bundle per note) "
            "or FILE.ndjson. Default: standard output.",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format", "-f", help="fhir: Bundles; jsonl: one record per note; csv/parquet: one row per fact."
        ),
    ] = OutputFormat.fhir,
    extractor: Annotated[
        str | None,
        typer.Option("--extractor", "-e", help="Extractor name: encoder (default), rules, llm (or name.vN)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model path (or server model name) for the extractor.")
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="Batch engine: local (this process), ray (Ray Data: -o DIR of partitions, "
            "resumable), or one a plugin adds.",
        ),
    ] = "local",
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="--engine ray: actors, each loading the extractor once."),
    ] = None,
    gpus_per_worker: Annotated[
        float,
        typer.Option("--gpus-per-worker", min=0.0, help="--engine ray: GPUs reserved per worker (0: none)."),
    ] = 0.0,
    address: Annotated[
        str | None,
        typer.Option(
            "--address", help="--engine ray: an existing cluster (HOST:PORT, ray://HOST:PORT, auto)."
        ),
    ] = None,
    partition_size: Annotated[
        int | None,
        typer.Option(
            "--partition-size", min=1, help="--engine ray: notes per partition (file and restart unit)."
        ),
    ] = None,
    max_chars: Annotated[
        int,
        typer.Option("--max-chars", min=0, help="A longer note is an error, not extracted (0: no limit)."),
    ] = DEFAULT_MAX_CHARS,
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
            help="Leave out entities less confident than this (0..1, after calibration): more precision, less recall.",
        ),
    ] = 0.0,
    calibration: Annotated[
        str,
        typer.Option(
            "--calibration",
            help="default: the calibrator shipped for this extractor and model (confidence = probability "
            "the fact is correct); none: raw scores; or a file from `clinex calibrate`.",
        ),
    ] = "default",
    linker: Annotated[
        str | None,
        typer.Option(
            "--linker",
            help="a learned code linker (`clinex link SILVER.jsonl -o FILE`): codes this hospital's coders "
            "use for a mention, ahead of the terminology where its evidence is stronger.",
        ),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no summary; errors only.")
    ] = False,
) -> None:
    """Extract grounded, coded entities from clinical notes.

    Exit codes: 0 every note done; 1 some notes failed, the others were written;
    2 a usage error, or no note could be done. Errors name inputs, never note text.
    """
    from clinex.batch import BatchSummary, get_engine, open_writer
    from clinex.inputs import check_inputs, read_inputs

    limit = max_chars or None
    if engine in _RAY:
        _extract_on_ray(
            inputs,
            out,
            output_format=output_format.value,
            extractor=extractor,
            options={"model": model} if model else None,
            workers=workers or 1,
            gpus_per_worker=gpus_per_worker,
            address=address,
            partition_size=partition_size,
            bundle_type=bundle_type.value,
            validate=validate,
            min_confidence=min_confidence,
            calibration=calibration,
            linker=linker,
            max_chars=limit,
            quiet=quiet,
        )
        return
    with user_errors():
        for flag, value in (
            ("--workers", workers),
            ("--gpus-per-worker", gpus_per_worker or None),
            ("--address", address),
            ("--partition-size", partition_size),
        ):
            if value is not None:
                raise ConfigError(
                    f"{flag} is an option of --engine ray", hint=f"add --engine ray, or leave out {flag}"
                )
        check_inputs(inputs)
        run = get_engine(engine)
        items = read_inputs(inputs)
        first = list(itertools.islice(items, 2))
        if not first:
            stderr.print("warning: no notes in the input; nothing written")
            return
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
    try:
        with user_errors():
            outcomes = run(
                itertools.chain(first, items),
                extractor,
                writer,
                options={"model": model} if model else None,
                resume=resume,
                min_confidence=min_confidence,
                calibration=calibration,
                linker=linker,
                max_chars=limit,
            )
            _follow(outcomes, summary, progress=many and not quiet)
    finally:
        writer.close()
        if not quiet and summary.notes:
            _print_summary(summary)
            stderr.print(_where(summary, writer.destination))
    _exit_for(summary)


def _exit_for(summary: BatchSummary) -> None:
    """Exit code 1 where some notes failed and others are in the output, 2 where none is."""
    if summary.failed:
        raise typer.Exit(code=1 if summary.ok or summary.skipped else 2)


def _extract_on_ray(
    inputs: list[str],
    out: Path | None,
    *,
    output_format: str,
    quiet: bool,
    partition_size: int | None,
    **settings: Any,
) -> None:
    from clinex.batch.ray import DEFAULT_PARTITION_SIZE, ERRORS_FILE, extract_on_ray

    with user_errors():
        if out is None:
            raise ConfigError("--engine ray writes partitions into a directory", hint="give -o OUT_DIR")
        with _RayProgress(disable=quiet) as progress:
            run = extract_on_ray(
                inputs,
                out,
                fmt=output_format,
                partition_size=partition_size or DEFAULT_PARTITION_SIZE,
                progress=progress,
                **settings,
            )
    summary = run.summary
    if not summary.notes:
        stderr.print("warning: no notes in the input; nothing written")
    for row in run.errors[:_ERRORS_SHOWN]:
        report_row(row)
    if len(run.errors) > _ERRORS_SHOWN:
        stderr.print(f"... and {len(run.errors) - _ERRORS_SHOWN} more errors in {out / ERRORS_FILE}")
    if not quiet and summary.notes:
        _print_summary(summary)
        where = _where(summary, f"{out}/")
        stderr.print(f"{where} ({run.partitions_run} of {run.partitions} partitions run now)")
    _exit_for(summary)


class _RayProgress:
    """A progress bar for --engine ray: notes done of the total, notes per second."""

    def __init__(self, *, disable: bool) -> None:
        from rich.progress import TextColumn

        self._bar = _progress_bar("extracting on Ray", TextColumn("{task.fields[rate]}"), shown=not disable)
        self._task: Any = None
        self._began = 0.0
        self._done = 0
        self._quiet = disable

    def __enter__(self) -> _RayProgress:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.__exit__(None, None, None)

    def start(self, total: int, *, skipped: int) -> None:
        if skipped and not self._quiet:
            stderr.print(f"resuming: {_notes(skipped)} already done are skipped")
        self._task = self._bar.add_task("notes", total=total, rate="")
        self._began = time.monotonic()

    def advance(self, notes: int) -> None:
        self._done += notes
        rate = self._done / max(time.monotonic() - self._began, 1e-9)
        self._bar.update(self._task, advance=notes, rate=f"{rate:.1f} notes/s")


def _progress_bar(label: str, *extra: ProgressColumn, shown: bool) -> Progress:
    """A bar on stderr (only on a terminal): label, bar, done/total, ``extra``, time elapsed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        *extra,
        TimeElapsedColumn(),
        console=stderr,
        transient=True,
        disable=not (shown and stderr.is_terminal),
    )


def _follow(outcomes: Iterable[NoteOutcome], summary: BatchSummary, *, progress: bool) -> None:
    bar = _progress_bar("extracting", shown=progress)
    with bar:
        task = bar.add_task("notes", total=None)
        for outcome in outcomes:
            summary.add(outcome)
            if outcome.error is not None:
                report(outcome.error, source=outcome.source)
            bar.advance(task)


def _notes(count: int) -> str:
    return f"{count} note{'' if count == 1 else 's'}"


def _where(summary: BatchSummary, destination: str) -> str:
    """The last line: how many notes went where."""
    done = f"{_notes(summary.ok)} written to {destination}" if summary.ok else "nothing written"
    if summary.failed:
        done += f"; {summary.failed} failed"
    if summary.skipped:
        done += f"; {_notes(summary.skipped)} skipped (already in {destination})"
    return done


def _print_summary(summary: BatchSummary) -> None:
    from rich.table import Table

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
    found = [(name, count) for name, count in summary.check_rows() if count]
    if not found:
        stderr.print("plausibility checks: no findings")
        return
    checks = Table("plausibility check", "findings", title="plausibility checks", title_justify="left")
    for name, count in found:
        checks.add_row(name, str(count))
    stderr.print(checks)
