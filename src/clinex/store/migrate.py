"""Bring a store's schema to the newest revision, from code (no alembic.ini, no command line).

The migration scripts are package data (``clinex/store/migrations``); :func:`upgrade` runs
them inside one transaction that also holds the store's write lock (SQLite: BEGIN IMMEDIATE;
PostgreSQL: an advisory lock), so two processes opening a new store at once do not both
create its tables.
"""

from __future__ import annotations

from contextlib import ExitStack
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text

#: Key of the advisory lock (PostgreSQL) held while migrating: "clinex" as a number.
_MIGRATION_LOCK = 0x636C696E6578
#: Marks a connection whose transactions take SQLite's write lock at once (see database.py).
WRITE_OPTION = "clinex_write"


def head() -> str:
    """The newest revision the package ships."""
    with ExitStack() as stack:
        revision = ScriptDirectory.from_config(_config(stack)).get_current_head()
    assert revision is not None  # the package ships at least 0001
    return revision


def current(engine: Engine) -> str | None:
    """The revision the database at ``engine`` is at, or None where it has no schema yet."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine | str) -> str:
    """Migrate the database (an Engine or a SQLAlchemy URL) to :func:`head`; returns it.
    Running it on a database already at head changes nothing."""
    owned = isinstance(engine, str)
    bound = create_engine(engine) if isinstance(engine, str) else engine
    try:
        with ExitStack() as stack:
            config = _config(stack)
            with bound.connect().execution_options(**{WRITE_OPTION: True}) as connection, connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        return head()
    finally:
        if owned:
            bound.dispose()


def _config(stack: ExitStack) -> Config:
    # as_file: the scripts may sit in a zip; alembic reads them from a directory.
    location = stack.enter_context(resources.as_file(resources.files("clinex.store") / "migrations"))
    config = Config()
    config.set_main_option("script_location", str(location))
    return config
