"""What every trainer returns; configs are parsed by :mod:`clinex.core.config`."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class TrainResult:
    """What every trainer returns: where the model went (a directory or a file), its checksum and its metrics."""

    output: Path
    checksum: str
    metrics: dict[str, Any]
