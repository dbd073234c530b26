"""The `clinex` command: a thin typer app; each command lives in its own module and imports
what it needs only when it runs, so `clinex --help` and a usage error answer at once."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
import typer.rich_utils

from clinex import __version__
from clinex.cli import align, audit, calibrate, evaluate, extract, keys, link, monitor, serve, synth, train
from clinex.cli._errors import report
from clinex.core.errors import InternalError

#: Columns for help written to neither a terminal nor a pager in one (a file, a CI log), which
#: rich would wrap at 80.
PIPED_HELP_COLUMNS = 120
#: Set to 1 to see the traceback of an unexpected error (a bug) instead of one line.
DEBUG_ENV = "CLINEX_DEBUG"

app = typer.Typer(
    name="clinex",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command("extract")(extract.extract)
app.command("synth")(synth.synth)
app.command("train")(train.train)
app.command("evaluate")(evaluate.evaluate)
app.command("calibrate")(calibrate.calibrate)
app.command("align")(align.align)
app.command("link")(link.link)
app.command("monitor")(monitor.monitor)
app.command("serve")(serve.serve)
app.add_typer(keys.app, name="keys")
app.add_typer(audit.app, name="audit")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"clinex {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """Clinical narrative → grounded, coded FHIR R4 data."""


def _help_width() -> int | None:
    """The width for help and usage errors: a terminal's own (rich finds it) unless stdout is
    piped; piped into a pager, the width of the terminal on stderr; else :data:`PIPED_HELP_COLUMNS`."""
    if sys.stdout.isatty() or os.environ.get("COLUMNS") or os.environ.get("TERMINAL_WIDTH"):
        return None
    if sys.stderr.isatty():
        return os.get_terminal_size(sys.stderr.fileno()).columns
    return PIPED_HELP_COLUMNS


def main() -> None:
    width = _help_width()
    if width is not None:
        typer.rich_utils.MAX_WIDTH = width
    try:
        app()
    except Exception as exc:
        if os.environ.get(DEBUG_ENV, "") in {"1", "true", "yes"}:
            raise
        # A bug, not the user's doing: one line naming the exception type (its message may quote a note).
        report(
            InternalError(
                f"clinex failed unexpectedly ({type(exc).__name__})",
                hint=f"this is a bug; please report it with the command you ran ({DEBUG_ENV}=1 shows the traceback)",
            )
        )
        sys.exit(2)
