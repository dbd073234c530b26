"""`clinex train` (being written)."""

from __future__ import annotations

import typer


def train() -> None:
    """Not yet available."""
    raise typer.Exit(code=1)
