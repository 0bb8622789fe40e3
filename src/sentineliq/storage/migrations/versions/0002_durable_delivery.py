"""Durable delivery: provider pauses, possibly-sent markers, dropped fields, attempt history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28

Only additions, so existing rows stay valid: new columns are nullable, except
`deliveries.dropped_fields`, which existing rows get as [] through its server default. SQLite
adds columns in place (batch mode only recreates a table when it must, e.g. on downgrade).
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OUTCOMES = ("delivered", "adopted", "retry", "dead", "paused", "released", "reconcile", "replayed")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("ticket_providers") as batch:
        batch.add_column(sa.Column("paused_at", _ts(), nullable=True))
        batch.add_column(sa.Column("paused_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("claimed_at", _ts(), nullable=True))
        batch.add_column(sa.Column("last_sent_at", _ts(), nullable=True))
        batch.add_column(sa.Column("reconcile_until", _ts(), nullable=True))
        batch.add_column(
            sa.Column("dropped_fields", _json(), server_default=sa.text("'[]'"), nullable=False)
        )
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("delivery_id", sa.String(36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.String(200), nullable=False),
        sa.Column("started_at", _ts(), nullable=False),
        sa.Column("finished_at", _ts(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("error_kind", sa.String(32), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("retry_at", _ts(), nullable=True),
        sa.Column("details", _json(), nullable=True),
        sa.CheckConstraint(
            "outcome IN (" + ", ".join(f"'{o}'" for o in OUTCOMES) + ")",
            name=op.f("ck_delivery_attempts_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.id"],
            name=op.f("fk_delivery_attempts_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
    )
    op.create_index(
        op.f("ix_delivery_attempts_delivery_id_started_at"),
        "delivery_attempts",
        ["delivery_id", "started_at"],
    )


def downgrade() -> None:
    op.drop_table("delivery_attempts")
    with op.batch_alter_table("deliveries") as batch:
        for column in ("dropped_fields", "reconcile_until", "last_sent_at", "claimed_at"):
            batch.drop_column(column)
    with op.batch_alter_table("ticket_providers") as batch:
        batch.drop_column("paused_reason")
        batch.drop_column("paused_at")
