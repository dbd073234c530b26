"""`clinex evaluate` (being written)."""

from __future__ import annotations

import typer


def evaluate() -> None:
    """Not yet available."""
    raise typer.Exit(code=1)
