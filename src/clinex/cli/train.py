"""`clinex train CONFIG.yaml [--set key=value ...]`: fine-tune a model from a config file."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from clinex.cli._errors import stderr, user_errors


def train(
    config: Annotated[Path, typer.Argument(help="YAML config, e.g. configs/encoder.yaml")],
    overrides: Annotated[
        list[str] | None, typer.Option("--set", help="override a config value: --set epochs=1 (repeatable)")
    ] = None,
    help_config: Annotated[
        bool,
        typer.Option(
            "--help-config", help="list the options with this config's values (and --set's) and exit"
        ),
    ] = False,
) -> None:
    """Fine-tune a model as the config file says; writes the model, metrics and curve."""
    from clinex.train import load_training, options

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with user_errors():
        settings, trainer = load_training(config, overrides or ())
        if help_config:
            given = f"{config} and --set" if overrides else str(config)
            typer.echo(f"{type(settings).__name__} as {given} set it (default shown where it differs):")
            for name, value, default, text in options(settings):
                typer.echo(f"  {name:20} {value:32} {text}" + (f" [default: {default}]" if default else ""))
            return
        result = trainer.train(settings)
        stderr.print(f"model written to {result.output} (sha256 {result.checksum[:12]})")
