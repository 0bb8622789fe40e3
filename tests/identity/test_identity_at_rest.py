"""Nothing a caller could sign in with is readable from the database, and every step is audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from identity_support import PASSWORD, FakeClock

from sentineliq.services.identity import IdentityService, Role
from sentineliq.storage import AuditRepository, Database, WorkspaceRecord
from sentineliq.storage.tables import Base

Rows = Callable[[str], list[dict[str, Any]]]


def test_no_secret_is_stored_in_plaintext_and_every_change_is_audited(
    identity: IdentityService,
    workspace_factory: Callable[[str], WorkspaceRecord],
    raw_rows: Rows,
    database: Database,
    clock: FakeClock,
) -> None:
    soc = workspace_factory("SOC")  # audited with the real clock
    clock.catch_up()
    clock.advance(seconds=1)  # one step per second: the audit log orders by time
    user = identity.create_user("gina@example.test", PASSWORD, actor="cli")
    clock.advance(seconds=1)
    identity.add_member(soc.id, user.id, Role.OWNER, actor="cli")
    clock.advance(seconds=1)
    assert identity.authenticate("gina@example.test", "not the password", ip="192.0.2.4") is None
    assert identity.authenticate("gina@example.test", PASSWORD) == user
    clock.advance(seconds=1)
    web = identity.start_session(user.id, ip="192.0.2.4", user_agent="Chromium/140")
    clock.advance(seconds=1)
    key, plaintext = identity.create_api_key(soc.id, "SIEM", actor=user.email, ip="192.0.2.4")
    assert identity.api_key_principal(plaintext) is not None
    clock.advance(seconds=1)
    identity.revoke_api_key(soc.id, key.id, actor=user.email)
    clock.advance(seconds=1)
    identity.end_session(web.token)

    secrets = {
        "password": PASSWORD,
        "wrong password": "not the password",
        "session token": web.token,
        "api key": plaintext,
        "api key secret": plaintext.split("_", 2)[2],
    }
    for table in Base.metadata.tables:
        dump = repr(raw_rows(table))
        for what, value in secrets.items():
            assert value not in dump, f"{what} stored in {table}"

    actions = [e.action for e in reversed(AuditRepository(database).list())]
    assert actions == [
        "workspace.created",
        "user.created",
        "member.added",
        "login.failed",
        "session.started",
        "api_key.created",
        "api_key.revoked",
        "session.ended",
    ]
