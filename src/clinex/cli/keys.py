"""`clinex keys`: create, list and revoke the review service's API keys."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated

import typer

from clinex.cli._errors import user_errors
from clinex.core.errors import ConfigError, NotFoundError

if TYPE_CHECKING:
    from clinex.store import Store

#: The store commands use where --db is not given (then ``clinex.db`` in the current folder).
DB_ENV = "CLINEX_DB"
DEFAULT_DB = "clinex.db"

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help=f"The review store: a SQLite file or postgresql://USER@HOST/DB "
        f"(default: ${DB_ENV}, else {DEFAULT_DB} in the current folder).",
        show_default=False,
    ),
]

app = typer.Typer(name="keys", no_args_is_help=True, add_completion=False)


@app.callback()
def keys() -> None:
    """Manage the API keys of the review service (clinex serve): reviewer or admin."""


def store_url(db: str | None) -> str:
    """``--db`` as given, else ``$CLINEX_DB``, else ``clinex.db`` (here)."""
    return db or os.environ.get(DB_ENV) or DEFAULT_DB


def open_cli_store(db: str | None) -> Store:
    """The store ``--db`` names, with a hint where the service extra is missing."""
    try:
        from clinex.store import open_store
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"the review store needs the package {exc.name!r}, which is not installed",
            hint="pip install 'clinex[service]'",
        ) from None
    return open_store(store_url(db))


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Who or what uses the key (unique among live keys).")],
    role: Annotated[
        str, typer.Option("--role", help="reviewer (review documents) | admin (also export, audit, keys).")
    ],
    db: DbOption = None,
) -> None:
    """Create a key and print it (last line). It is shown this once: the store keeps only its hash."""
    with user_errors():
        store = open_cli_store(db)
        try:
            token = store.create_key(name=name, role=role)
        finally:
            store.close()
    typer.echo(f"created {role} key {name!r}; the key is shown this once, keep it now:", err=True)
    typer.echo(token)


@app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="The name of the key to revoke.")],
    db: DbOption = None,
) -> None:
    """Revoke the live key NAME: requests with it are refused from now on."""
    with user_errors():
        store = open_cli_store(db)
        try:
            revoked = store.revoke_key(name)
        finally:
            store.close()
        if not revoked:
            raise NotFoundError(f"no live key named {name!r}", hint="clinex keys list shows the live keys")
    typer.echo(f"revoked key {name!r}")


@app.command("list")
def list_keys(db: DbOption = None) -> None:
    """List the live keys: name, role, created (never the keys themselves)."""
    with user_errors():
        store = open_cli_store(db)
        try:
            live = store.keys()
        finally:
            store.close()
    if not live:
        typer.echo("no live keys (create one with clinex keys create --name NAME --role admin)", err=True)
        return
    width = max(len("name"), *(len(key.name) for key in live))
    typer.echo(f"{'name':{width}}  {'role':8}  created")
    for key in live:
        typer.echo(f"{key.name:{width}}  {key.role:8}  {key.created_at}")
