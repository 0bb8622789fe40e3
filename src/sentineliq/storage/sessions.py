"""Admin-panel login sessions, keyed by the SHA-256 of the cookie value.

Whoever reads this table cannot sign in: the cookie value itself is never stored. Expiry rules
(absolute lifetime, idle timeout) are the identity service's; this module stores and revokes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update

from sentineliq.storage.audit import add_audit
from sentineliq.storage.db import Database
from sentineliq.storage.tables import WebSessionRow


@dataclass(frozen=True)
class SessionRecord:
    id: str  # sha256 hex of the cookie value
    user_id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    idle_timeout_s: int
    csrf_token: str = field(repr=False)
    ip: str | None
    user_agent: str | None
    revoked_at: datetime | None


def _record(row: WebSessionRow) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        idle_timeout_s=row.idle_timeout_s,
        csrf_token=row.csrf_token,
        ip=row.ip,
        user_agent=row.user_agent,
        revoked_at=row.revoked_at,
    )


class SessionRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self,
        session_id: str,
        user_id: str,
        csrf_token: str,
        *,
        now: datetime,
        expires_at: datetime,
        idle_timeout_s: int,
        ip: str | None,
        user_agent: str | None,
        actor: str,
    ) -> SessionRecord:
        """Store a new session and audit the login (`session.started`) in the same transaction."""
        with self._db.session() as session:
            row = WebSessionRow(
                id=session_id,
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                expires_at=expires_at,
                idle_timeout_s=idle_timeout_s,
                csrf_token=csrf_token,
                ip=ip,
                user_agent=user_agent,
                revoked_at=None,
            )
            session.add(row)
            add_audit(
                session,
                "session.started",
                actor=actor,
                target=f"user:{user_id}",
                details=_origin(ip, user_agent, session=session_id[:16]),
                at=now,
            )
            session.flush()
            return _record(row)

    def get(self, session_id: str) -> SessionRecord | None:
        with self._db.session() as session:
            row = session.get(WebSessionRow, session_id)
            return _record(row) if row is not None else None

    def touch(self, session_id: str, now: datetime) -> None:
        """Record activity (sliding idle expiry). Never moves last_seen_at backwards."""
        with self._db.session() as session:
            session.execute(
                update(WebSessionRow)
                .where(WebSessionRow.id == session_id, WebSessionRow.last_seen_at < now)
                .values(last_seen_at=now)
            )

    def revoke(
        self,
        session_id: str,
        *,
        now: datetime,
        actor: str,
        reason: str = "logout",
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> bool:
        """End the session (`session.ended`); False if unknown or already ended."""
        with self._db.session() as session:
            row = session.get(WebSessionRow, session_id)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = now
            add_audit(
                session,
                "session.ended",
                actor=actor,
                target=f"user:{row.user_id}",
                details=_origin(ip, user_agent, session=session_id[:16], reason=reason),
                at=now,
            )
            return True


def _origin(ip: str | None, user_agent: str | None, **extra: str) -> Mapping[str, Any]:
    """Audit details: where the request came from, when known, plus `extra`."""
    details: dict[str, Any] = dict(extra)
    if ip is not None:
        details["ip"] = ip
    if user_agent is not None:
        details["user_agent"] = user_agent
    return details
