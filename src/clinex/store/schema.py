"""The review store's tables (SQLAlchemy Core), shared by SQLite and PostgreSQL.

The migration ``versions/0001_initial.py`` creates exactly these; a change here needs a new
migration, never an edit of a released one. Times are ISO 8601 UTC strings (they sort as
text), JSON columns hold JSON values as given (``JSON``, not ``JSONB``, on PostgreSQL, so an
audit row reads back byte for byte the content its hash was taken over).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("started_at", String(32)),
    Column("finished_at", String(32)),
    Column("options", JSON, nullable=False),
    Column("actor", String, nullable=False),
    Index("ix_jobs_status_created", "status", "created_at"),
)

documents = Table(
    "documents",
    metadata,
    Column("id", String, primary_key=True),
    Column("job", String(32), ForeignKey("jobs.id"), nullable=False),
    # The note's place in its job, so a job lists its documents in the order given.
    Column("job_index", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("patient", JSON),
    Column("status", String(16), nullable=False),
    Column("meta", JSON, nullable=False),
    Column("error", JSON),
    Column("created_at", String(32), nullable=False),
    Index("ix_documents_job", "job", "job_index"),
    Index("ix_documents_status", "status"),
)

facts = Table(
    "facts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("document", String, ForeignKey("documents.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("entity", JSON, nullable=False),
    # type and confidence repeat the entity's own, so the review queue filters and sorts in SQL.
    Column("type", String(32), nullable=False),
    Column("confidence", Float, nullable=False),
    Column("review_status", String(16), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("required", Boolean, nullable=False),
    Column("reason", Text),
    UniqueConstraint("document", "position", name="uq_facts_document_position"),
    Index("ix_facts_type_confidence", "type", "confidence"),
    Index("ix_facts_document_status", "document", "review_status"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fact", String(32), ForeignKey("facts.id"), nullable=False),
    Column("document", String, ForeignKey("documents.id"), nullable=False),
    Column("reviewer", String, nullable=False),
    Column("action", String(16), nullable=False),
    Column("at", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Column("comment", Text),
    Index("ix_decisions_document_reviewer", "document", "reviewer"),
    Index("ix_decisions_fact", "fact"),
    Index("ix_decisions_reviewer", "reviewer"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String, nullable=False),
    Column("role", String(16), nullable=False),
    # sha256 of the token (hex); the token itself is never stored.
    Column("hash", String(64), nullable=False, unique=True),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
    # A name is unique among live keys; a revoked key's name may be given again.
    Index(
        "uq_api_keys_live_name",
        "name",
        unique=True,
        sqlite_where=text("revoked_at IS NULL"),
        postgresql_where=text("revoked_at IS NULL"),
    ),
)

audit = Table(
    "audit",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(32), nullable=False),
    Column("actor", String, nullable=False),
    Column("action", String(64), nullable=False),
    Column("document", String, nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Column("model", JSON, nullable=False),
    Column("comment", Text),
    Column("previous", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_document", "document"),
)

#: One row (id 1): the last audit row's seq and hash. Writers lock it (PostgreSQL: SELECT ...
#: FOR UPDATE) before appending, so two transactions never link a row to the same head.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)
