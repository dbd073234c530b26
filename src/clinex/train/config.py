"""What a trainer is and what it returns; configs are parsed by :mod:`clinex.core.config`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

C = TypeVar("C")


@dataclasses.dataclass(frozen=True, slots=True)
class TrainResult:
    """What every trainer returns: where the model went (a directory or a file), its checksum and its metrics."""

    output: Path
    checksum: str
    metrics: dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Trainer(Generic[C]):
    """A training method as the ``trainers`` registry holds it: its config dataclass and its train function.

    ``config`` is built from a YAML file by :func:`clinex.core.config.build_config` (every field
    an :func:`~clinex.core.config.option` with a help text); ``train`` takes it and returns a
    :class:`TrainResult`. A plugin registers one under the entry-point group ``clinex.trainers``.
    """

    config: type[C]
    train: Callable[[C], TrainResult]
