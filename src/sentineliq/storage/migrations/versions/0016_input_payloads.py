"""Inputs: the source's original payload kept with each alert, and per-workspace input settings.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

alerts.source_payload: what an input adapter (Alertmanager, ...) was sent for the alert,
verbatim, so nothing the source said is lost; NULL for alerts sent in the native format (their
payload column is already what was sent, repaired). workspaces.input_settings: per input
format, the workspace's settings (e.g. Alertmanager's severity map); NULL: the defaults.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("source_payload", _json(), nullable=True))
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("input_settings", _json(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("input_settings")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("source_payload")
