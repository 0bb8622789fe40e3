"""Evidence files: uploaded files of an alert, with their hashes and where their content is kept.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04

evidence_files: one row per upload (name, content type, size, MD5/SHA-1/SHA-256 computed by
the server, the store's key), who uploaded it and when, and a deletion marker (rows are never
removed). evidence_id links the file's custody chain (an evidence row of the alert).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _cascade(column: str, target: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column],
        [target],
        name=op.f(f"fk_evidence_files_{column}_{referred}"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "evidence_files",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("workspace_id", sa.String(36), nullable=False),
        sa.Column("alert_id", sa.String(36), nullable=False),
        sa.Column("evidence_id", sa.String(36), nullable=True),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("md5", sa.String(32), nullable=False),
        sa.Column("sha1", sa.String(40), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(100), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("uploaded_by", sa.Text(), nullable=False),
        sa.Column("deleted_at", _ts(), nullable=True),
        sa.Column("deleted_by", sa.Text(), nullable=True),
        _cascade("workspace_id", "workspaces.id"),
        _cascade("alert_id", "alerts.id"),
        _cascade("evidence_id", "evidence.id"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_files")),
    )
    op.create_index(
        op.f("ix_evidence_files_alert_id_created_at"),
        "evidence_files",
        ["alert_id", "created_at"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_evidence_files_alert_id_created_at"), table_name="evidence_files")
    op.drop_table("evidence_files")
