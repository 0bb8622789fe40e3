"""The audit trail: who did what, when. Details never carry secrets."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sentineliq.logs import scrub
from sentineliq.storage.db import Database
from sentineliq.storage.tables import AuditRow, new_id
from sentineliq.storage.types import utcnow


@dataclass(frozen=True)
class AuditRecord:
    id: str
    at: datetime
    workspace_id: str | None
    actor: str
    action: str
    target: str | None
    details: Mapping[str, Any]


@dataclass(frozen=True)
class AuditEntry:
    """An entry a caller wants written in a repository's transaction (see AlertRepository)."""

    action: str
    actor: str
    workspace_id: str | None = None
    target: str | None = None
    details: Mapping[str, Any] | None = None


def audit_values(
    action: str,
    *,
    actor: str,
    workspace_id: str | None = None,
    target: str | None = None,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """An audit entry's columns, for a multi-row insert in the caller's transaction."""
    return {
        "id": new_id(),
        "at": at or utcnow(),
        "workspace_id": workspace_id,
        "actor": actor,
        "action": action,
        "target": target,
        "details": scrub(dict(details or {})),
    }


def add_audit(
    session: Session,
    action: str,
    *,
    actor: str,
    workspace_id: str | None = None,
    target: str | None = None,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditRow:
    """Add an audit entry to `session`'s transaction: it commits or rolls back with the change."""
    row = AuditRow(
        **audit_values(
            action,
            actor=actor,
            workspace_id=workspace_id,
            target=target,
            details=details,
            at=at,
        )
    )
    session.add(row)
    return row


def to_record(row: AuditRow) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        at=row.at,
        workspace_id=row.workspace_id,
        actor=row.actor,
        action=row.action,
        target=row.target,
        details=dict(row.details),
    )


class AuditRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(
        self,
        action: str,
        *,
        actor: str,
        workspace_id: str | None = None,
        target: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> AuditRecord:
        with self._db.session() as session:
            row = add_audit(
                session,
                action,
                actor=actor,
                workspace_id=workspace_id,
                target=target,
                details=details,
            )
            session.flush()
            return to_record(row)

    def list(self, workspace_id: str | None = None, limit: int = 100) -> builtins.list[AuditRecord]:
        """Newest first; all workspaces (and workspace-less entries) when `workspace_id` is None."""
        query = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id).limit(limit)
        if workspace_id is not None:
            query = query.where(AuditRow.workspace_id == workspace_id)
        with self._db.session() as session:
            return [to_record(row) for row in session.scalars(query)]
