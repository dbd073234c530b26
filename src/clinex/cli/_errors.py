"""One way for every command to report a clinex error: one line on stderr, exit code 2."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from clinex.core.errors import ClinexError

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def report(error: ClinexError, *, source: str | None = None) -> None:
    """Print one error line, led by ``source`` (the input) where the message does not name it
    (never note text: messages name inputs, not content)."""
    _print(str(error), named=error.message, source=source)


def report_row(row: Mapping[str, Any]) -> None:
    """Print an error row (``errors.jsonl``: source, code, message, hint) as :func:`report` does."""
    text = f"[{row.get('code')}] {row.get('message')}" + (
        f" (hint: {row['hint']})" if row.get("hint") else ""
    )
    _print(text, named=str(row.get("message")), source=row.get("source"))


def _print(text: str, *, named: str, source: str | None) -> None:
    message = text if source is None or source in named else f"{source}: {text}"
    # Escaped: a hint such as "pip install 'clinex[parquet]'" is not rich markup.
    stderr.print(f"[bold red]error[/]: {escape(message)}", markup=True)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn a ClinexError into a one-line message and exit code 2 instead of a traceback."""
    try:
        yield
    except ClinexError as exc:
        report(exc)
        raise typer.Exit(code=2) from None
