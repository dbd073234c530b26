"""Alembic environment: runs on the connection :func:`clinex.store.migrate.upgrade` passes in
(``config.attributes["connection"]``), inside that caller's transaction."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from clinex.core.errors import InternalError


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise InternalError(
            "the store's migrations run through clinex.store.migrate.upgrade",
            hint="call clinex.store.migrate.upgrade(url) instead of the alembic command line",
        )
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()


_run()
