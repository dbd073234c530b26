"""The review store: jobs, documents, facts, decisions, API keys and the audit chain.

Revision ID: 0001
Revises:
Created: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The previous hash of the first audit row (clinex.store.audit.GENESIS, written out: a
#: released migration must not change when the code it once imported does).
_GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("started_at", sa.String(32)),
        sa.Column("finished_at", sa.String(32)),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("actor", sa.String, nullable=False),
    )
    op.create_index("ix_jobs_status_created", "jobs", ["status", "created_at"])

    op.create_table(
        "documents",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("job", sa.String(32), sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("job_index", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("patient", sa.JSON),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("meta", sa.JSON, nullable=False),
        sa.Column("error", sa.JSON),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_documents_job", "documents", ["job", "job_index"])
    op.create_index("ix_documents_status", "documents", ["status"])

    op.create_table(
        "facts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("document", sa.String, sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("entity", sa.JSON, nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("review_status", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("required", sa.Boolean, nullable=False),
        sa.Column("reason", sa.Text),
        sa.UniqueConstraint("document", "position", name="uq_facts_document_position"),
    )
    op.create_index("ix_facts_type_confidence", "facts", ["type", "confidence"])
    op.create_index("ix_facts_document_status", "facts", ["document", "review_status"])

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("fact", sa.String(32), sa.ForeignKey("facts.id"), nullable=False),
        sa.Column("document", sa.String, sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("reviewer", sa.String, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
        sa.Column("comment", sa.Text),
    )
    op.create_index("ix_decisions_document_reviewer", "decisions", ["document", "reviewer"])
    op.create_index("ix_decisions_fact", "decisions", ["fact"])
    op.create_index("ix_decisions_reviewer", "decisions", ["reviewer"])

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32)),
    )
    op.create_index(
        "uq_api_keys_live_name",
        "api_keys",
        ["name"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )

    op.create_table(
        "audit",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("document", sa.String, nullable=False),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
        sa.Column("model", sa.JSON, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("previous", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_document", "audit", ["document"])

    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": _GENESIS}])


def downgrade() -> None:
    for table in ("audit_head", "audit", "api_keys", "decisions", "facts", "documents", "jobs"):
        op.drop_table(table)
