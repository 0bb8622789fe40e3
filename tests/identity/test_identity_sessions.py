"""Login sessions: hashed at rest, absolute and idle expiry, per-session CSRF, logout."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from identity_support import PASSWORD, FakeClock, cheap_hasher
from sqlalchemy import update

from sentineliq.services.context import AppContext
from sentineliq.services.identity import IdentityService, UserRecord
from sentineliq.storage import AuditRepository, Database, InvalidStateError, NotFoundError
from sentineliq.storage.tables import UserRow

Rows = Callable[[str], list[dict[str, Any]]]


@pytest.fixture
def user(identity: IdentityService) -> UserRecord:
    return identity.create_user("erin@example.test", PASSWORD, actor="t")


def test_only_the_hash_of_the_token_is_stored(
    identity: IdentityService, user: UserRecord, raw_rows: Rows, clock: FakeClock
) -> None:
    web = identity.start_session(user.id, ip="192.0.2.1", user_agent="Chromium/140")
    assert len(web.token) >= 43  # token_urlsafe(32)
    assert web.expires_at == clock.now + timedelta(hours=12)
    assert web.idle_expires_at == clock.now + timedelta(minutes=30)
    assert web.token not in repr(web)
    assert web.csrf_token not in repr(web)
    (row,) = raw_rows("web_sessions")
    assert row["id"] == hashlib.sha256(web.token.encode()).hexdigest()
    assert web.token not in repr(row)
    assert (row["ip"], row["user_agent"]) == ("192.0.2.1", "Chromium/140")

    found = identity.session_principal(web.token)
    assert found is not None
    principal, again = found
    assert (principal.kind, principal.id, principal.name) == ("user", user.id, user.email)
    assert (principal.user_id, principal.workspace_id) == (user.id, None)
    assert again.csrf_token == web.csrf_token
    assert identity.session_principal(web.token[:-1]) is None
    assert identity.session_principal("") is None


def test_each_session_has_its_own_csrf_token(identity: IdentityService, user: UserRecord) -> None:
    first = identity.start_session(user.id, ip=None, user_agent=None)
    second = identity.start_session(user.id, ip=None, user_agent=None)
    assert first.token != second.token
    assert first.csrf_token != second.csrf_token
    assert len(first.csrf_token) >= 43
    for web in (first, second):
        found = identity.session_principal(web.token)
        assert found is not None
        assert found[1].csrf_token == web.csrf_token


def test_idle_session_expires_and_activity_slides_it(
    identity: IdentityService, user: UserRecord, clock: FakeClock
) -> None:
    web = identity.start_session(user.id, ip=None, user_agent=None)
    clock.advance(minutes=20)
    assert identity.session_principal(web.token) is not None
    clock.advance(minutes=20)  # 40 minutes after login, 20 after the last request
    found = identity.session_principal(web.token)
    assert found is not None
    assert found[1].idle_expires_at == clock.now + timedelta(minutes=30)
    clock.advance(minutes=30)
    assert identity.session_principal(web.token) is None
    clock.advance(seconds=-1)  # the edge: one second earlier it was still alive
    assert identity.session_principal(web.token) is not None


def test_absolute_lifetime_ends_an_active_session(
    app: AppContext, user: UserRecord, clock: FakeClock
) -> None:
    identity = IdentityService(
        app,
        clock=clock,
        hasher=cheap_hasher(),
        session_lifetime=timedelta(hours=2),
        idle_timeout=timedelta(hours=1),
    )
    web = identity.start_session(user.id, ip=None, user_agent=None)
    for _ in range(3):
        clock.advance(minutes=39)
        assert identity.session_principal(web.token) is not None
    clock.advance(minutes=3)  # 2 h after login, although used 3 minutes ago
    assert identity.session_principal(web.token) is None


def test_last_seen_is_written_at_most_once_a_minute(
    identity: IdentityService, user: UserRecord, clock: FakeClock, raw_rows: Rows
) -> None:
    def last_seen() -> datetime:
        value: datetime = raw_rows("web_sessions")[0]["last_seen_at"]
        return value if value.tzinfo else value.replace(tzinfo=UTC)  # SQLite stores naive UTC

    web = identity.start_session(user.id, ip=None, user_agent=None)
    started = clock.now
    clock.advance(seconds=30)
    assert identity.session_principal(web.token) is not None
    assert last_seen() == started
    clock.advance(seconds=31)
    assert identity.session_principal(web.token) is not None
    assert last_seen() == clock.now


def test_logout_revokes_at_once_and_is_audited(
    identity: IdentityService, user: UserRecord, database: Database, raw_rows: Rows
) -> None:
    web = identity.start_session(user.id, ip="192.0.2.1", user_agent="Chromium/140")
    other = identity.start_session(user.id, ip=None, user_agent=None)
    identity.end_session(web.token, ip="192.0.2.1")
    assert identity.session_principal(web.token) is None
    assert identity.session_principal(other.token) is not None
    identity.end_session(web.token)  # twice: no error, no second entry
    identity.end_session("no-such-token")
    assert sum(r["revoked_at"] is not None for r in raw_rows("web_sessions")) == 1

    entries = AuditRepository(database).list()
    started = [e for e in entries if e.action == "session.started"]
    (ended,) = [e for e in entries if e.action == "session.ended"]
    assert len(started) == 2
    login = next(e for e in started if e.details.get("ip") == "192.0.2.1")
    assert login.actor == user.email
    assert login.details["user_agent"] == "Chromium/140"
    assert ended.actor == user.email
    assert ended.details["session"] == login.details["session"]
    assert ended.details["ip"] == "192.0.2.1"
    for entry in entries:
        assert web.token not in repr(entry)
        assert web.csrf_token not in repr(entry)


def test_disabled_or_unknown_users_get_no_session(
    identity: IdentityService, user: UserRecord, database: Database
) -> None:
    web = identity.start_session(user.id, ip=None, user_agent=None)
    with database.session() as session:
        session.execute(update(UserRow).where(UserRow.id == user.id).values(is_active=False))
    assert identity.session_principal(web.token) is None
    with pytest.raises(InvalidStateError):
        identity.start_session(user.id, ip=None, user_agent=None)
    with pytest.raises(NotFoundError):
        identity.start_session("00000000-0000-0000-0000-000000000000", ip=None, user_agent=None)
