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
        bool, typer.Option("--help-config", help="list the config's options and exit")
    ] = False,
) -> None:
    """Fine-tune a model as the config file says; writes the model, metrics and curve."""
    from clinex.core.config import describe, read_yaml
    from clinex.train import load_training, task_of

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with user_errors():
        if help_config:
            config_cls, _ = task_of(str(read_yaml(config).get("task", "encoder")))
            for name, default, text in describe(config_cls):
                typer.echo(f"{name:20} {default:30} {text}")
            return
        settings, trainer = load_training(config, overrides or ())
        result = trainer(settings)
        stderr.print(f"model written to {result.output} (sha256 {result.checksum[:12]})")
