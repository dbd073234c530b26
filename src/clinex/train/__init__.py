"""Training: one package per method, each a config dataclass beside its trainer, found by name.

A config file names its trainer with a top-level ``task:`` key (default ``encoder``): a name of
the :data:`~clinex.core.registry.trainers` registry (``encoder``, ``assertion``, ``encoder.v1``
to pin a version, or a plugin's). What the registry holds for a name is a
:class:`~clinex.train.config.Trainer`: the config dataclass and the function that trains from
it. The shipped ones are registered lazily in :mod:`clinex._builtins`; a plugin adds one with
an entry point ``[project.entry-points."clinex.trainers"] "mine.v1" = "pkg.module:TRAINER"``.

Layout, and where the coming pieces fit::

    train/config.py      Trainer, TrainResult
    train/paths.py       checks of the paths a config names, before training
    train/encoder/       config, data, lora, trainer (TRAINER), export, card    → "encoder.v1"
    train/assertion/     config, trainer (TRAINER)                              → "assertion.v1"

A decoder trainer (full, LoRA or prompt tuning of the LLM extractor's model) is one more
package, ``train/decoder/`` with its ``config.py`` and a ``trainer.py`` ending in ``TRAINER``,
registered as ``decoder.v1``; nothing here changes. An experiment runner
(``train/experiments.py``) takes a grid of overrides over a base config file, runs
``load_training(path, overrides)`` and ``trainer.train(config)`` for each cell, and scores each
:class:`~clinex.train.config.TrainResult` with ``clinex evaluate``; it needs no trainer's
internals, only this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clinex.core.config import build_config, describe, parse_overrides, read_yaml
from clinex.core.errors import ConfigError, UnknownNameError
from clinex.core.registry import trainers
from clinex.train.config import Trainer, TrainResult

#: The trainer of a config file without a ``task:`` key.
DEFAULT_TASK = "encoder"


def trainer(name: str) -> Trainer[Any]:
    """The trainer registered as ``name`` (``encoder``, ``assertion.v1``, a plugin's)."""
    found = trainers.get(name)
    if not isinstance(found, Trainer):
        raise ConfigError(
            f"the trainer {trainers.resolve(name)!r} is a {type(found).__name__}, not a clinex.train.config.Trainer",
            hint="a trainer plugin's entry point must name a Trainer(config=..., train=...)",
        )
    return found


def load_training(path: Path, overrides: Sequence[str] = ()) -> tuple[Any, Trainer[Any]]:
    """The config (YAML, then ``key=value`` overrides) and the trainer it is for."""
    values = read_yaml(path) | parse_overrides(overrides)
    task = str(values.pop("task", DEFAULT_TASK))
    try:
        found = trainer(task)
    except UnknownNameError as exc:
        raise UnknownNameError(f"{path}: task: {exc.message}", hint=exc.hint) from None
    return build_config(found.config, values, source=str(path)), found


def options(config: Any) -> list[tuple[str, str, str, str]]:
    """(name, value, default, help) of every option of a built config; default '' where the value is it."""
    rows = []
    for name, default, text in describe(type(config)):
        value = repr(getattr(config, name))
        rows.append((name, value, "" if value == default else default, text))
    return rows


__all__ = ["DEFAULT_TASK", "TrainResult", "Trainer", "load_training", "options", "trainer"]
