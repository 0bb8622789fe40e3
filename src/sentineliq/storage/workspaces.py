"""Workspaces: the tenant boundary. Alerts, providers and deliveries all belong to one."""

from __future__ import annotations

import builtins
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sentineliq.lifecycle.fingerprint import FingerprintRecipe
from sentineliq.storage.audit import add_audit
from sentineliq.storage.db import Database
from sentineliq.storage.errors import AlreadyExistsError, NotFoundError
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

    def fingerprint_recipe(self, workspace_id: str) -> FingerprintRecipe | None:
        """The workspace's own recipe for recognising repeats; None: the default one.

        Raises NotFoundError for an unknown workspace.
        """
        with self._db.session() as session:
            row = session.get(WorkspaceRow, workspace_id)
            if row is None:
                raise NotFoundError(f"workspace {workspace_id} not found")
            return stored_recipe(row.fingerprint_recipe)

    def set_fingerprint_recipe(
        self,
        workspace_id: str,
        recipe: FingerprintRecipe | None,
        *,
        actor: str,
        origin: Mapping[str, str | None] | None = None,
    ) -> bool:
        """Use `recipe` from the next ingest on (None: back to the default); audited with the
        recipe before and after. Returns whether anything changed.

        The row is locked FOR UPDATE: an ingest running meanwhile (it holds the row FOR SHARE)
        finishes with the recipe it started with. Alerts stored earlier keep their fingerprints.
        """
        with self._db.session() as session:
            row = session.scalar(
                select(WorkspaceRow).where(WorkspaceRow.id == workspace_id).with_for_update()
            )
            if row is None:
                raise NotFoundError(f"workspace {workspace_id} not found")
            before = stored_recipe(row.fingerprint_recipe)
            if before == recipe:
                return False
            row.fingerprint_recipe = recipe.model_dump(mode="json") if recipe is not None else None
            add_audit(
                session,
                "workspace.fingerprint_recipe_changed",
                actor=actor,
                workspace_id=workspace_id,
                target=f"workspace:{workspace_id}",
                details={
                    "before": before.model_dump(mode="json") if before is not None else "default",
                    "after": recipe.model_dump(mode="json") if recipe is not None else "default",
                    **{key: value for key, value in (origin or {}).items() if value is not None},
                },
            )
            return True


def stored_recipe(stored: object) -> FingerprintRecipe | None:
    """The recipe kept in the row's JSON; None for none, or one that no longer validates
    (written by another version), for which ingest uses the default too."""
    if not stored:
        return None
    try:
        # From JSON text: the strict model takes enum values (observable types) only there.
        return FingerprintRecipe.model_validate_json(json.dumps(stored))
    except ValueError:
        return None
