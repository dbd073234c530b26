"""`clinex link FILES... -o linker.json`: learn this hospital's coding habits from its coded
mentions (silver from `clinex align`, gold exported by the review service) for `--linker`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clinex.cli._errors import stderr, user_errors


def link(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="clinex JSONL with grounded, coded entities: OUT/silver.jsonl of `clinex align`, "
            "the review service's GET /export?format=jsonl, or synthetic gold."
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The linker file to write (JSON).")],
) -> None:
    """Count the (mention → code) pairs of coded notes into a linker for `clinex extract --linker`."""
    from clinex.terminology.learned import build_linker

    with user_errors():
        linker = build_linker(files, out)
    stderr.print(f"linker written to {out} (sha256 {linker.digest[:12]})")
