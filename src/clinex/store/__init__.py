"""Persistence for the review service: jobs, documents, facts, decisions, API keys and the
append-only, hash-chained audit trail, on SQLite or PostgreSQL (:func:`open_store`).

This package never imports the service or a web framework; the service is built on it.
:func:`open_store` and :class:`Store` need SQLAlchemy and Alembic (the ``service`` extra) and
load on first use, so the audit chain and the records import without them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clinex.store.audit import AuditRecord, chain, first_broken_link
from clinex.store.records import ApiKey, DocumentSummary, Job, NewNote, StoredDocument

if TYPE_CHECKING:
    from clinex.store.database import DuplicateDocumentError, Store, open_store

__all__ = [
    "ApiKey",
    "AuditRecord",
    "DocumentSummary",
    "DuplicateDocumentError",
    "Job",
    "NewNote",
    "Store",
    "StoredDocument",
    "chain",
    "first_broken_link",
    "open_store",
]

_DATABASE = ("DuplicateDocumentError", "Store", "open_store")


def __getattr__(name: str) -> Any:
    if name in _DATABASE:
        from clinex.store import database

        return getattr(database, name)
    raise AttributeError(f"module 'clinex.store' has no attribute {name!r}")
