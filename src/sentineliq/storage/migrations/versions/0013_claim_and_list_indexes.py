"""Indexes for flat cost: the claim's order as partial indexes (waiting deliveries by provider
and available_at, in-flight ones by lease_until), a status-filtered list's order.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

The claim read both kinds through (status, available_at), ORed, and sorted the whole due
backlog for every batch (PostgreSQL: a sequential scan and a sort). Each kind now has its own
index in the order it is claimed in, holding only the rows that can become due (delivered and
dead ones are not in it): waiting rows per provider (a paused provider's backlog is never
read; no index on available_at alone, which PostgreSQL would prefer and read past a paused
provider's rows), and in-flight rows by lease expiry. A claim reads `limit` index entries per branch
however long the backlog (storage/deliveries/claims.py `due_ids`).

A list of one status (the dead letters, the held tickets) walked (workspace_id, updated_at, id)
past every delivery of other statuses, or sorted all of that status: (workspace_id, status,
updated_at, id) is its order, and serves what (workspace_id, status) served.

(status, available_at) goes: the claim was its only reader, and while it existed SQLite, which
keeps no statistics here, preferred it (and a sort of every due row) to the partial index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out rather than imported: a migration must not change when the tables module does.
WAITING = "status IN ('failed', 'pending')"
LEASED = "status = 'in_flight'"


def upgrade() -> None:
    op.create_index(
        "ix_deliveries_workspace_id_status_updated_at_id",
        "deliveries",
        ["workspace_id", "status", "updated_at", "id"],
    )
    op.drop_index("ix_deliveries_workspace_id_status", table_name="deliveries")
    op.drop_index("ix_deliveries_status_available_at", table_name="deliveries")
    for name, columns, predicate in (
        (
            "ix_deliveries_due_waiting_by_provider",
            ["workspace_id", "provider", "available_at", "id"],
            WAITING,
        ),
        ("ix_deliveries_due_leased", ["lease_until", "id"], LEASED),
    ):
        op.create_index(
            name,
            "deliveries",
            columns,
            sqlite_where=sa.text(predicate),
            postgresql_where=sa.text(predicate),
        )


def downgrade() -> None:
    op.create_index("ix_deliveries_status_available_at", "deliveries", ["status", "available_at"])
    op.create_index("ix_deliveries_workspace_id_status", "deliveries", ["workspace_id", "status"])
    op.drop_index("ix_deliveries_workspace_id_status_updated_at_id", table_name="deliveries")
    op.drop_index("ix_deliveries_due_leased", table_name="deliveries")
    op.drop_index("ix_deliveries_due_waiting_by_provider", table_name="deliveries")
