"""`clinex synth` (being written)."""

from __future__ import annotations

import typer


def synth() -> None:
    """Not yet available."""
    raise typer.Exit(code=1)
