"""`clinex audit`: check the review service's audit trail."""

from __future__ import annotations

from pathlib import Path

import typer

from clinex.cli._errors import user_errors
from clinex.cli.keys import DbOption, open_cli_store, store_url
from clinex.core.errors import ConfigError

#: Exit code of a broken chain (2 stays a usage or input error, as in every command).
BROKEN_EXIT = 1

app = typer.Typer(name="audit", no_args_is_help=True, add_completion=False)


@app.callback()
def audit() -> None:
    """Check the review service's hash-chained audit trail."""


@app.command("verify")
def verify(db: DbOption = None) -> None:
    """Recompute every audit row's hash and link: exit 0 when the chain holds, 1 naming the
    first row changed, removed or reordered."""
    with user_errors():
        url = store_url(db)
        if "://" not in url or url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            # Opening a missing file would create an empty store and call it intact.
            if not path.is_file():
                raise ConfigError(f"no review store at {str(path)!r}", hint="give --db (or set CLINEX_DB)")
        store = open_cli_store(db)
        try:
            broken = store.verify_audit()
            rows = len(store.audit()) if broken is None else 0
        finally:
            store.close()
    if broken is not None:
        typer.echo(
            f"audit trail broken at seq {broken}: that row was changed, removed or moved "
            f"(every row after it is unproven)",
            err=True,
        )
        raise typer.Exit(code=BROKEN_EXIT)
    typer.echo(f"audit trail intact: {rows} rows")
