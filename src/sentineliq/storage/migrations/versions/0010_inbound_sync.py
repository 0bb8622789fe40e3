"""Inbound sync from the ticket system: alert resolution columns, alert notes, webhook secrets,
reconcile cursors and webhook receipts.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02

Additions only: three nullable alert columns and three new tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("resolution", sa.Text(), nullable=True))
        batch.add_column(sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("status_changed_by", sa.String(200), nullable=True))
    op.create_table(
        "alert_notes",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("alert_id", sa.String(36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_notes_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_notes")),
        sa.UniqueConstraint("alert_id", "source", name=op.f("uq_alert_notes_alert_id_source")),
    )
    op.create_index(op.f("ix_alert_notes_alert_id_at"), "alert_notes", ["alert_id", "at"])
    op.create_table(
        "inbound_sync",
        sa.Column("provider_id", sa.String(36), nullable=False),
        sa.Column("webhook_secret", sa.Text(), nullable=True),
        sa.Column("secret_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reconcile_cursor", sa.DateTime(timezone=True), nullable=True),
        sa.Column("own_account_id", sa.String(128), nullable=True),
        sa.Column("own_account_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["ticket_providers.id"],
            name=op.f("fk_inbound_sync_provider_id_ticket_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_inbound_sync")),
    )
    op.create_table(
        "webhook_receipts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("provider_id", sa.String(36), nullable=False),
        sa.Column("identifier", sa.String(200), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["ticket_providers.id"],
            name=op.f("fk_webhook_receipts_provider_id_ticket_providers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_receipts")),
        sa.UniqueConstraint(
            "provider_id", "identifier", name=op.f("uq_webhook_receipts_provider_id_identifier")
        ),
    )
    op.create_index(op.f("ix_webhook_receipts_received_at"), "webhook_receipts", ["received_at"])


def downgrade() -> None:
    op.drop_table("webhook_receipts")
    op.drop_table("inbound_sync")
    op.drop_table("alert_notes")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("status_changed_by")
        batch.drop_column("status_changed_at")
        batch.drop_column("resolution")
