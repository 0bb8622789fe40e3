"""Workspace API keys, kept as the SHA-256 of the whole plaintext and found by their prefix.

The key's secret part is random and long, so a fast hash is enough (no password stretching): the
table alone never lets anyone call the API. Records carry no hash at all.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from sentineliq.storage.audit import add_audit
from sentineliq.storage.db import Database
from sentineliq.storage.errors import AlreadyExistsError, NotFoundError
from sentineliq.storage.tables import ApiKeyRow, WorkspaceRow, new_id


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    workspace_id: str
    name: str
    prefix: str  # shown in listings to tell keys apart; not enough to use the key
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _record(row: ApiKeyRow) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=row.id,
        workspace_id=row.workspace_id,
        name=row.name,
        prefix=row.prefix,
        created_by=row.created_by,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class PrefixTakenError(AlreadyExistsError):
    """Another key already has this prefix; the caller draws a new one."""


class ApiKeyRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self,
        workspace_id: str,
        name: str,
        prefix: str,
        key_hash: str,
        *,
        actor: str,
        now: datetime,
        origin: Mapping[str, Any] | None = None,
    ) -> ApiKeyRecord:
        """Raises PrefixTakenError on a prefix collision, NotFoundError for an unknown workspace."""
        try:
            with self._db.session() as session:
                if session.get(WorkspaceRow, workspace_id) is None:
                    raise NotFoundError(f"workspace {workspace_id!r} not found")
                if session.scalar(select(ApiKeyRow.id).where(ApiKeyRow.prefix == prefix)):
                    raise PrefixTakenError("API key prefix already in use")
                row = ApiKeyRow(
                    id=new_id(),
                    workspace_id=workspace_id,
                    name=name,
                    prefix=prefix,
                    key_hash=key_hash,
                    created_by=actor,
                    created_at=now,
                    last_used_at=None,
                    revoked_at=None,
                )
                session.add(row)
                add_audit(
                    session,
                    "api_key.created",
                    actor=actor,
                    workspace_id=workspace_id,
                    target=f"api_key:{row.id}",
                    details={"name": name, "prefix": prefix, **(origin or {})},
                    at=now,
                )
                session.flush()
                return _record(row)
        except IntegrityError:
            # The same prefix was inserted concurrently (the only unique column we set).
            raise PrefixTakenError("API key prefix already in use") from None

    def by_prefix(self, prefix: str) -> tuple[ApiKeyRecord, str] | None:
        """The key with this prefix and its stored hash, for verification only. A plain read:
        every API request makes it, and it must not queue behind ingest for the write lock."""
        with self._db.read() as session:
            row = session.scalar(select(ApiKeyRow).where(ApiKeyRow.prefix == prefix))
            return (_record(row), row.key_hash) if row is not None else None

    def get(self, workspace_id: str, key_id: str) -> ApiKeyRecord | None:
        with self._db.session() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None or row.workspace_id != workspace_id:
                return None
            return _record(row)

    def list_for_workspace(self, workspace_id: str) -> builtins.list[ApiKeyRecord]:
        """Newest first, revoked keys included (they show when and that they were revoked)."""
        query = (
            select(ApiKeyRow)
            .where(ApiKeyRow.workspace_id == workspace_id)
            .order_by(ApiKeyRow.created_at.desc(), ApiKeyRow.id)
        )
        with self._db.session() as session:
            return [_record(row) for row in session.scalars(query)]

    def revoke(
        self,
        workspace_id: str,
        key_id: str,
        *,
        actor: str,
        now: datetime,
        origin: Mapping[str, Any] | None = None,
    ) -> bool:
        """Revoke at once; False if revoked already. NotFoundError if not in the workspace."""
        with self._db.session() as session:
            row = session.get(ApiKeyRow, key_id)
            if row is None or row.workspace_id != workspace_id:
                raise NotFoundError(f"API key {key_id!r} not found in this workspace")
            if row.revoked_at is not None:
                return False
            row.revoked_at = now
            add_audit(
                session,
                "api_key.revoked",
                actor=actor,
                workspace_id=workspace_id,
                target=f"api_key:{row.id}",
                details={"name": row.name, "prefix": row.prefix, **(origin or {})},
                at=now,
            )
            return True

    def touch(self, key_id: str, now: datetime, *, not_after: datetime) -> None:
        """Set last_used_at = now unless it is already later than `not_after` (limits writes)."""
        with self._db.session() as session:
            session.execute(
                update(ApiKeyRow)
                .where(
                    ApiKeyRow.id == key_id,
                    or_(ApiKeyRow.last_used_at.is_(None), ApiKeyRow.last_used_at <= not_after),
                )
                .values(last_used_at=now)
            )
