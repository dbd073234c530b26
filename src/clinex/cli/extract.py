"""`clinex extract` (being written)."""

from __future__ import annotations

import typer


def extract() -> None:
    """Not yet available."""
    raise typer.Exit(code=1)
