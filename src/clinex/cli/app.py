"""The `clinex` command: a thin typer app; each command lives in its own module."""

from __future__ import annotations

import typer

from clinex.cli import evaluate, extract, serve, synth, train

app = typer.Typer(
    name="clinex",
    help="Clinical narrative → grounded, coded FHIR R4 data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("extract")(extract.extract)
app.command("synth")(synth.synth)
app.command("train")(train.train)
app.command("evaluate")(evaluate.evaluate)
app.command("serve")(serve.serve)


def main() -> None:
    app()
