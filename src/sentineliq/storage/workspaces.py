"""Workspaces: the tenant boundary. Alerts, providers and deliveries all belong to one."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sentineliq.storage.audit import add_audit
from sentineliq.storage.db import Database
from sentineliq.storage.errors import AlreadyExistsError
from sentineliq.storage.tables import WorkspaceRow, new_id
from sentineliq.storage.types import utcnow

MAX_NAME_LENGTH = 100


@dataclass(frozen=True)
class WorkspaceRecord:
    id: str
    name: str
    created_at: datetime


def _record(row: WorkspaceRow) -> WorkspaceRecord:
    return WorkspaceRecord(id=row.id, name=row.name, created_at=row.created_at)


def _clean_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH:
        raise ValueError(f"a workspace name must be 1 to {MAX_NAME_LENGTH} characters")
    return cleaned


class WorkspaceRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, name: str, *, actor: str = "system") -> WorkspaceRecord:
        """Raises AlreadyExistsError if the name is taken."""
        name = _clean_name(name)
        try:
            with self._db.session() as session:
                if session.scalar(select(WorkspaceRow.id).where(WorkspaceRow.name == name)):
                    raise AlreadyExistsError(f"workspace {name!r} already exists")
                row = WorkspaceRow(id=new_id(), name=name, created_at=utcnow())
                session.add(row)
                add_audit(
                    session,
                    "workspace.created",
                    actor=actor,
                    workspace_id=row.id,
                    target=f"workspace:{row.id}",
                    details={"name": name},
                )
                session.flush()
                return _record(row)
        except IntegrityError:
            # Another process created the same name between our check and insert.
            raise AlreadyExistsError(f"workspace {name!r} already exists") from None

    def get_or_create(self, name: str, *, actor: str = "system") -> WorkspaceRecord:
        existing = self.get_by_name(name)
        if existing is not None:
            return existing
        try:
            return self.create(name, actor=actor)
        except AlreadyExistsError:
            found = self.get_by_name(name)
            assert found is not None  # it exists: creating it just failed for that reason
            return found

    def get(self, workspace_id: str) -> WorkspaceRecord | None:
        with self._db.session() as session:
            row = session.get(WorkspaceRow, workspace_id)
            return _record(row) if row is not None else None

    def get_by_name(self, name: str) -> WorkspaceRecord | None:
        with self._db.session() as session:
            row = session.scalar(select(WorkspaceRow).where(WorkspaceRow.name == name.strip()))
            return _record(row) if row is not None else None

    def list(self) -> builtins.list[WorkspaceRecord]:
        with self._db.session() as session:
            rows = session.scalars(select(WorkspaceRow).order_by(WorkspaceRow.name))
            return [_record(row) for row in rows]
