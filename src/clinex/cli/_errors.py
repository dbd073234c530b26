"""One way for every command to report a clinex error: one line on stderr, exit code 2."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from clinex.core.errors import ClinexError

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def report(error: ClinexError, *, prefix: str = "error") -> None:
    """Print one error line (never note text: messages name inputs, not content)."""
    stderr.print(f"[bold red]{prefix}[/]: {error}", markup=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a ClinexError into a one-line message and exit code 2 instead of a traceback."""
    try:
        yield
    except ClinexError as exc:
        report(exc)
        raise typer.Exit(code=2) from None
