"""Persistence for the review service: the append-only, hash-chained audit trail.

Database stores (SQLite, PostgreSQL) come with the review service; this package holds what
they share and never imports the service or a web framework.
"""

from clinex.store.audit import AuditRecord, chain, first_broken_link

__all__ = ["AuditRecord", "chain", "first_broken_link"]
