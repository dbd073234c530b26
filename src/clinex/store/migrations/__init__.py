"""Alembic migrations of the review store (run by :func:`clinex.store.migrate.upgrade`)."""
