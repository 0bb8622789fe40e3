"""Assignee mappings: a workspace's email -> ticket-system account id, tried before any search.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

A new table only. Most Jira Cloud accounts hide their email, so some assignees can only be set
through a mapping an operator enters.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assignee_mappings",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("workspace_id", sa.String(36), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("account_id", sa.String(128), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_assignee_mappings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignee_mappings")),
        sa.UniqueConstraint(
            "workspace_id", "email", name=op.f("uq_assignee_mappings_workspace_id_email")
        ),
    )


def downgrade() -> None:
    op.drop_table("assignee_mappings")
