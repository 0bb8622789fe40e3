"""Rate budgets: one row per ticket-system site, shared by all worker processes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_budgets",
        sa.Column("site", sa.Text(), nullable=False),
        sa.Column("tokens", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.Double(), nullable=False),
        sa.Column("blocked_until", sa.Double(), nullable=False),
        sa.Column("learned_rate", sa.Double(), nullable=False),
        sa.Column("limit_rate", sa.Double(), nullable=True),
        sa.Column("strikes", sa.Integer(), nullable=False),
        sa.Column("adjusted_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("site", name=op.f("pk_rate_budgets")),
    )


def downgrade() -> None:
    op.drop_table("rate_budgets")
