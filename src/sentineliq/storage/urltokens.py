"""Input URL tokens, kept like API keys: the SHA-256 of the whole token, found by its prefix.

A token authorizes posting to one input of one workspace (/api/v1/hooks/{token}); records carry
no hash at all.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from sentineliq.storage.apikeys import PrefixTakenError
from sentineliq.storage.audit import add_audit
from sentineliq.storage.db import Database
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.tables import InputUrlTokenRow, WorkspaceRow, new_id


@dataclass(frozen=True)
class UrlTokenRecord:
    id: str
    workspace_id: str
    input_name: str
    prefix: str  # shown in listings to tell tokens apart; not enough to use the token
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _record(row: InputUrlTokenRow) -> UrlTokenRecord:
    return UrlTokenRecord(
        id=row.id,
        workspace_id=row.workspace_id,
        input_name=row.input_name,
        prefix=row.prefix,
        created_by=row.created_by,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


class UrlTokenRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self,
        workspace_id: str,
        input_name: str,
        prefix: str,
        token_hash: str,
        *,
        actor: str,
        now: datetime,
        origin: Mapping[str, Any] | None = None,
    ) -> UrlTokenRecord:
        """Raises PrefixTakenError on a prefix collision, NotFoundError for an unknown workspace."""
        try:
            with self._db.session() as session:
                if session.get(WorkspaceRow, workspace_id) is None:
                    raise NotFoundError(f"workspace {workspace_id!r} not found")
                taken = select(InputUrlTokenRow.id).where(InputUrlTokenRow.prefix == prefix)
                if session.scalar(taken):
                    raise PrefixTakenError("URL token prefix already in use")
                row = InputUrlTokenRow(
                    id=new_id(),
                    workspace_id=workspace_id,
                    input_name=input_name,
                    prefix=prefix,
                    token_hash=token_hash,
                    created_by=actor,
                    created_at=now,
                    last_used_at=None,
                    revoked_at=None,
                )
                session.add(row)
                add_audit(
                    session,
                    "input_url_token.created",
                    actor=actor,
                    workspace_id=workspace_id,
                    target=f"input_url_token:{row.id}",
                    details={"input": input_name, "prefix": prefix, **(origin or {})},
                    at=now,
                )
                session.flush()
                return _record(row)
        except IntegrityError:
            raise PrefixTakenError("URL token prefix already in use") from None

    def by_prefix(self, prefix: str) -> tuple[UrlTokenRecord, str] | None:
        """The token with this prefix and its stored hash, for verification only (a plain read)."""
        with self._db.read() as session:
            row = session.scalar(select(InputUrlTokenRow).where(InputUrlTokenRow.prefix == prefix))
            return (_record(row), row.token_hash) if row is not None else None

    def list_for_input(
        self, workspace_id: str, input_name: str | None = None
    ) -> builtins.list[UrlTokenRecord]:
        """Newest first, revoked tokens included; every input's when `input_name` is None."""
        query = select(InputUrlTokenRow).where(InputUrlTokenRow.workspace_id == workspace_id)
        if input_name is not None:
            query = query.where(InputUrlTokenRow.input_name == input_name)
        query = query.order_by(InputUrlTokenRow.created_at.desc(), InputUrlTokenRow.id)
        with self._db.session() as session:
            return [_record(row) for row in session.scalars(query)]

    def revoke(
        self,
        workspace_id: str,
        input_name: str,
        token_id: str,
        *,
        actor: str,
        now: datetime,
        origin: Mapping[str, Any] | None = None,
    ) -> bool:
        """Revoke at once; False if revoked already. NotFoundError if it is not this input's."""
        with self._db.session() as session:
            row = session.get(InputUrlTokenRow, token_id)
            if row is None or row.workspace_id != workspace_id or row.input_name != input_name:
                raise NotFoundError(f"URL token {token_id!r} not found for input {input_name!r}")
            if row.revoked_at is not None:
                return False
            row.revoked_at = now
            add_audit(
                session,
                "input_url_token.revoked",
                actor=actor,
                workspace_id=workspace_id,
                target=f"input_url_token:{row.id}",
                details={"input": row.input_name, "prefix": row.prefix, **(origin or {})},
                at=now,
            )
            return True

    def touch(self, token_id: str, now: datetime, *, not_after: datetime) -> None:
        """Set last_used_at = now unless it is already later than `not_after` (limits writes)."""
        with self._db.session() as session:
            session.execute(
                update(InputUrlTokenRow)
                .where(
                    InputUrlTokenRow.id == token_id,
                    or_(
                        InputUrlTokenRow.last_used_at.is_(None),
                        InputUrlTokenRow.last_used_at <= not_after,
                    ),
                )
                .values(last_used_at=now)
            )
