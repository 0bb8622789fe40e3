"""The delivery lists' order as an index: (workspace_id, updated_at, id).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Lists are newest first and keyset-paged; with this index a page is an index range read instead
of a sort of every delivery of the workspace.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_deliveries_workspace_id_updated_at_id"


def upgrade() -> None:
    op.create_index(op.f(NAME), "deliveries", ["workspace_id", "updated_at", "id"])


def downgrade() -> None:
    op.drop_index(op.f(NAME), table_name="deliveries")
