"""Training: one config dataclass beside each trainer, loaded from YAML with CLI overrides.

A config file names its trainer with a top-level ``task:`` key (default ``encoder``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from clinex.core.config import build_config, parse_overrides, read_yaml
from clinex.core.errors import ConfigError

#: task name → (config dataclass, trainer), imported only when asked for (they load torch).
TASKS: dict[str, str] = {
    "encoder": "clinex.train.encoder:EncoderTrainConfig:train_encoder",
    "assertion": "clinex.train.assertion:AssertionTrainConfig:train_assertion",
}


def task_of(name: str) -> tuple[type[Any], Callable[[Any], Any]]:
    """The config class and trainer of a task."""
    import importlib

    if name not in TASKS:
        raise ConfigError(f"unknown training task {name!r}", hint=f"choose one of: {', '.join(TASKS)}")
    module_name, config_name, trainer_name = TASKS[name].split(":")
    module = importlib.import_module(module_name)
    return getattr(module, config_name), getattr(module, trainer_name)


def load_training(path: Path, overrides: Sequence[str] = ()) -> tuple[Any, Callable[[Any], Any]]:
    """The config (YAML, then ``key=value`` overrides) and the trainer it is for."""
    values = read_yaml(path) | parse_overrides(overrides)
    task = str(values.pop("task", "encoder"))
    config_cls, trainer = task_of(task)
    return build_config(config_cls, values, source=str(path)), trainer


__all__ = ["TASKS", "load_training", "task_of"]
