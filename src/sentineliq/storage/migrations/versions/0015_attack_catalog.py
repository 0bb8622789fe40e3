"""The synced MITRE ATT&CK catalog: one row with the catalog, its version and the last sync.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

A new table only; without a row tickets keep using the catalog embedded in the package.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "attack_catalog",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(40), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attack_catalog")),
    )


def downgrade() -> None:
    op.drop_table("attack_catalog")
