"""The storm guard's window as an index: (workspace_id, provider, operation, status,
created_at).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

Every ingest chunk counts a provider's creates within the storm window; without this index the
count read every delivery of the workspace (by status), so ingest slowed down as deliveries
piled up.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_deliveries_workspace_id_provider_operation_status_created_at"


def upgrade() -> None:
    op.create_index(
        op.f(NAME),
        "deliveries",
        ["workspace_id", "provider", "operation", "status", "created_at"],
    )


def downgrade() -> None:
    op.drop_index(op.f(NAME), table_name="deliveries")
