"""Time a delivery spent waiting for a paused provider, which never counts toward its maximum age.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

One addition: existing rows get 0 through the server default.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(
            sa.Column("paused_seconds", sa.Double(), server_default=sa.text("0"), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("paused_seconds")
