"""Lifecycle: occurrences of repeated alerts, held deliveries, several deliveries per alert.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

- `alert_occurrences` (new) and the alert's occurrence count, last-seen time, peak severity.
- `deliveries`: the unique key (alert, provider) becomes (alert, provider, operation, sequence)
  so an alert can have its comments, transitions and a later linked ticket; `payload` holds an
  operation's arguments. Statuses "held" and "discarded" (the storm guard), history outcomes
  "waiting", "unheld" and "discarded".
- `ticket_links`: the severity the ticket reflects, and the keys of earlier tickets.
- `workspaces.fingerprint_recipe`.
Existing rows get their values through server defaults: sequence 0, payload {}, count 0.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ("pending", "in_flight", "delivered", "failed", "dead")
STATUSES = (*OLD_STATUSES, "held", "discarded")
OLD_OUTCOMES = (
    "delivered", "adopted", "retry", "dead", "paused", "released", "reconcile", "replayed",
)  # fmt: skip
OUTCOMES = (*OLD_OUTCOMES, "waiting", "unheld", "discarded")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _in(column: str, values: Sequence[str]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def upgrade() -> None:
    op.create_table(
        "alert_occurrences",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("alert_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("received_at", _ts(), nullable=False),
        sa.Column("detected_at", _ts(), nullable=False),
        sa.Column("source_id", sa.Text(), nullable=True),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("raised_from", sa.String(16), nullable=True),
        sa.Column("new_observables", _json(), nullable=False),
        sa.Column("new_assets", _json(), nullable=False),
        sa.Column("brought_new", sa.Boolean(), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_alert_occurrences_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_occurrences")),
        sa.UniqueConstraint("alert_id", "seq", name=op.f("uq_alert_occurrences_alert_id_seq")),
    )
    op.create_index(
        op.f("ix_alert_occurrences_alert_id_detected_at"),
        "alert_occurrences",
        ["alert_id", "detected_at"],
    )
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(
            sa.Column("occurrence_count", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.add_column(sa.Column("last_seen_at", _ts(), nullable=True))
        batch.add_column(sa.Column("peak_severity", sa.String(16), nullable=True))
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("fingerprint_recipe", _json(), nullable=True))
    with op.batch_alter_table("ticket_links") as batch:
        batch.add_column(sa.Column("severity", sa.String(16), nullable=True))
        batch.add_column(
            sa.Column("previous_keys", _json(), server_default=sa.text("'[]'"), nullable=False)
        )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column("sequence", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.add_column(
            sa.Column("payload", _json(), server_default=sa.text("'{}'"), nullable=False)
        )
        batch.drop_constraint(op.f("uq_deliveries_alert_id_provider"), type_="unique")
        batch.create_unique_constraint(
            op.f("uq_deliveries_alert_id_provider_operation_sequence"),
            ["alert_id", "provider", "operation", "sequence"],
        )
        batch.drop_constraint(op.f("ck_deliveries_status"), type_="check")
        batch.create_check_constraint(op.f("ck_deliveries_status"), _in("status", STATUSES))
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.drop_constraint(op.f("ck_delivery_attempts_outcome"), type_="check")
        batch.create_check_constraint(
            op.f("ck_delivery_attempts_outcome"), _in("outcome", OUTCOMES)
        )


def downgrade() -> None:
    # Rows only the new statuses, outcomes and operations can describe cannot go back.
    op.execute(
        "DELETE FROM deliveries WHERE status IN ('held', 'discarded') OR sequence <> 0 "
        "OR operation <> 'create_issue'"
    )
    op.execute("DELETE FROM delivery_attempts WHERE outcome IN ('waiting', 'unheld', 'discarded')")
    with op.batch_alter_table("delivery_attempts") as batch:
        batch.drop_constraint(op.f("ck_delivery_attempts_outcome"), type_="check")
        batch.create_check_constraint(
            op.f("ck_delivery_attempts_outcome"), _in("outcome", OLD_OUTCOMES)
        )
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint(op.f("ck_deliveries_status"), type_="check")
        batch.create_check_constraint(op.f("ck_deliveries_status"), _in("status", OLD_STATUSES))
        batch.drop_constraint(
            op.f("uq_deliveries_alert_id_provider_operation_sequence"), type_="unique"
        )
        batch.create_unique_constraint(
            op.f("uq_deliveries_alert_id_provider"), ["alert_id", "provider"]
        )
        batch.drop_column("payload")
        batch.drop_column("sequence")
    with op.batch_alter_table("ticket_links") as batch:
        batch.drop_column("previous_keys")
        batch.drop_column("severity")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("fingerprint_recipe")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("peak_severity")
        batch.drop_column("last_seen_at")
        batch.drop_column("occurrence_count")
    op.drop_index(op.f("ix_alert_occurrences_alert_id_detected_at"), table_name="alert_occurrences")
    op.drop_table("alert_occurrences")
