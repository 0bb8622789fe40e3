"""Login sessions: the cookie token and its CSRF token, absolute and sliding idle expiry."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sentineliq.services.identity.access import Principal
from sentineliq.services.identity.origin import audit_origin
from sentineliq.services.identity.tokens import TOUCH_INTERVAL, sha256_hex
from sentineliq.storage.errors import InvalidStateError, NotFoundError
from sentineliq.storage.sessions import SessionRepository
from sentineliq.storage.users import UserRepository

DEFAULT_SESSION_LIFETIME = timedelta(hours=12)
DEFAULT_IDLE_TIMEOUT = timedelta(minutes=30)


@dataclass(frozen=True)
class WebSession:
    token: str = field(repr=False)  # the cookie value: a secret, never stored or logged
    csrf_token: str = field(repr=False)
    expires_at: datetime  # absolute end (idle expiry may come sooner, see idle_expires_at)
    user_id: str
    idle_expires_at: datetime


class LoginSessions:
    def __init__(
        self,
        sessions: SessionRepository,
        users: UserRepository,
        clock: Callable[[], datetime],
        *,
        lifetime: timedelta = DEFAULT_SESSION_LIFETIME,
        idle_timeout: timedelta = DEFAULT_IDLE_TIMEOUT,
    ) -> None:
        self._sessions = sessions
        self._users = users
        self._clock = clock
        self._lifetime = lifetime
        self._idle = idle_timeout

    def start(self, user_id: str, *, ip: str | None, user_agent: str | None) -> WebSession:
        """A new login session (audited as session.started); the token goes in the cookie."""
        user = self._users.get(user_id)
        if user is None:
            raise NotFoundError(f"user {user_id!r} not found")
        if not user.is_active:
            raise InvalidStateError("this account is disabled")
        now = self._clock()
        token = secrets.token_urlsafe(32)
        origin = audit_origin(ip, user_agent)
        record = self._sessions.create(
            sha256_hex(token),
            user.id,
            secrets.token_urlsafe(32),
            now=now,
            expires_at=now + self._lifetime,
            idle_timeout_s=int(self._idle.total_seconds()),
            ip=origin.get("ip"),
            user_agent=origin.get("user_agent"),
            actor=user.email,
        )
        return WebSession(
            token=token,
            csrf_token=record.csrf_token,
            expires_at=record.expires_at,
            user_id=user.id,
            idle_expires_at=min(record.expires_at, now + self._idle),
        )

    def principal(self, token: str) -> tuple[Principal, WebSession] | None:
        """The signed-in user for a cookie value, or None if unknown, ended, expired (absolute
        or idle) or the account is disabled. Activity slides the idle expiry."""
        if not token:
            return None
        record = self._sessions.get(sha256_hex(token))
        now = self._clock()
        if record is None or record.revoked_at is not None or now >= record.expires_at:
            return None
        idle = timedelta(seconds=record.idle_timeout_s)
        if now >= record.last_seen_at + idle:
            return None
        user = self._users.get(record.user_id)
        if user is None or not user.is_active:
            return None
        last_seen = record.last_seen_at
        if now - last_seen >= TOUCH_INTERVAL:
            self._sessions.touch(record.id, now)
            last_seen = now
        principal = Principal(
            kind="user", id=user.id, name=user.email, user_id=user.id, workspace_id=None
        )
        session = WebSession(
            token=token,
            csrf_token=record.csrf_token,
            expires_at=record.expires_at,
            user_id=user.id,
            idle_expires_at=min(record.expires_at, last_seen + idle),
        )
        return principal, session

    def end(self, token: str, *, ip: str | None = None, user_agent: str | None = None) -> None:
        """Log out: the token stops working at once. Unknown or ended tokens are ignored."""
        if not token:
            return
        record = self._sessions.get(sha256_hex(token))
        if record is None:
            return
        user = self._users.get(record.user_id)
        origin = audit_origin(ip, user_agent)
        self._sessions.revoke(
            record.id,
            now=self._clock(),
            actor=user.email if user is not None else f"user:{record.user_id}",
            ip=origin.get("ip"),
            user_agent=origin.get("user_agent"),
        )
