"""Input URL tokens: a sender URL (/api/v1/hooks/{token}) for one input of one workspace.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04

input_url_tokens: one row per token, kept like an API key (its prefix finds the row, the
SHA-256 of the whole token is compared), with the input it may post to, who made it and when,
when it was last used, and a revocation marker (rows are never removed).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "input_url_tokens",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("workspace_id", sa.String(36), nullable=False),
        sa.Column("input_name", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(8), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("last_used_at", _ts(), nullable=True),
        sa.Column("revoked_at", _ts(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_input_url_tokens_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_input_url_tokens")),
        sa.UniqueConstraint("prefix", name=op.f("uq_input_url_tokens_prefix")),
    )
    op.create_index(
        op.f("ix_input_url_tokens_workspace_id_input_name"),
        "input_url_tokens",
        ["workspace_id", "input_name"],
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_input_url_tokens_workspace_id_input_name"), table_name="input_url_tokens"
    )
    op.drop_table("input_url_tokens")
