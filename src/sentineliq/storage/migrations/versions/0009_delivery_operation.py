"""The operation a delivery carries out: "create_issue" for every delivery so far.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

One addition: existing rows get "create_issue" through the server default.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column(
                "operation",
                sa.String(32),
                server_default=sa.text("'create_issue'"),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("operation")
