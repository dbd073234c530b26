"""`clinex serve` (being written)."""

from __future__ import annotations

import typer


def serve() -> None:
    """Not yet available."""
    raise typer.Exit(code=1)
