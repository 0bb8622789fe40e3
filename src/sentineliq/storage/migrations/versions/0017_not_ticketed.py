"""Alerts stored without a ticket by choice: alerts.not_ticketed, per provider, why.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

A brand-protection detection below a provider's gate (TicketContent.brand_gate) is stored and
listed, not ticketed; this column says so, e.g. {"jira": "below the brand-protection gate: ..."}.
NULL: every enabled provider was asked to file it.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("not_ticketed", _json(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("not_ticketed")
