"""A workspace's settings per input format (workspaces.input_settings: {format: settings})."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from sentineliq.storage.audit import add_audit
from sentineliq.storage.db import Database
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.tables import WorkspaceRow


class InputSettingsRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, workspace_id: str, name: str) -> dict[str, Any] | None:
        """The stored settings of input `name`; None: the defaults. NotFoundError for an
        unknown workspace."""
        with self._db.session() as session:
            row = session.get(WorkspaceRow, workspace_id)
            if row is None:
                raise NotFoundError(f"workspace {workspace_id} not found")
            found = (row.input_settings or {}).get(name)
            return dict(found) if isinstance(found, dict) else None

    def all(self, workspace_id: str) -> dict[str, dict[str, Any]]:
        """Every input's stored settings, by input name. NotFoundError for an unknown workspace."""
        with self._db.session() as session:
            row = session.get(WorkspaceRow, workspace_id)
            if row is None:
                raise NotFoundError(f"workspace {workspace_id} not found")
            stored = row.input_settings or {}
            return {name: dict(found) for name, found in stored.items() if isinstance(found, dict)}

    def put(
        self,
        workspace_id: str,
        name: str,
        settings: Mapping[str, Any] | None,
        *,
        actor: str,
        origin: Mapping[str, str | None] | None = None,
    ) -> bool:
        """Store (None: drop, back to the defaults) input `name`'s settings, audited with
        before and after; whether anything changed. The row is locked: two writers of
        different inputs never lose each other's settings."""
        with self._db.session() as session:
            row = session.scalar(
                select(WorkspaceRow).where(WorkspaceRow.id == workspace_id).with_for_update()
            )
            if row is None:
                raise NotFoundError(f"workspace {workspace_id} not found")
            current = dict(row.input_settings or {})
            before = current.get(name)
            after = dict(settings) if settings is not None else None
            if before == after:
                return False
            if after is None:
                current.pop(name, None)
            else:
                current[name] = after
            row.input_settings = current or None
            add_audit(
                session,
                "workspace.input_settings_changed",
                actor=actor,
                workspace_id=workspace_id,
                target=f"workspace:{workspace_id}",
                details={
                    "input": name,
                    "before": before if before is not None else "default",
                    "after": after if after is not None else "default",
                    **{key: value for key, value in (origin or {}).items() if value is not None},
                },
            )
            return True
