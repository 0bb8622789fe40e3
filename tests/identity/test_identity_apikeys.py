"""Workspace API keys: shown once, stored as a hash, found by prefix, revocable at once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from identity_support import FakeClock

from sentineliq.services import identity as identity_module
from sentineliq.services.identity import IdentityService
from sentineliq.storage import AuditRepository, Database, NotFoundError, WorkspaceRecord

Rows = Callable[[str], list[dict[str, Any]]]


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)  # SQLite stores naive UTC


@pytest.fixture
def soc(workspace_factory: Callable[[str], WorkspaceRecord]) -> WorkspaceRecord:
    return workspace_factory("SOC")


def test_key_is_returned_once_and_stored_as_a_hash(
    identity: IdentityService, soc: WorkspaceRecord, raw_rows: Rows
) -> None:
    record, plaintext = identity.create_api_key(soc.id, " SIEM ", actor="owner@example.test")
    assert plaintext.startswith(f"siq_{record.prefix}_")
    assert len(record.prefix) == 8
    secret = plaintext.removeprefix(f"siq_{record.prefix}_")
    assert len(secret) >= 43
    assert (record.name, record.workspace_id, record.created_by) == (
        "SIEM",
        soc.id,
        "owner@example.test",
    )
    (row,) = raw_rows("api_keys")
    assert row["key_hash"] == hashlib.sha256(plaintext.encode()).hexdigest()
    assert secret not in repr(row)
    assert secret not in repr(record)
    assert identity.list_api_keys(soc.id) == [record]

    principal = identity.api_key_principal(plaintext)
    assert principal is not None
    assert (principal.kind, principal.id, principal.name) == ("api_key", record.id, "SIEM")
    assert (principal.user_id, principal.workspace_id) == (None, soc.id)


def test_wrong_or_malformed_keys_are_refused(
    identity: IdentityService, soc: WorkspaceRecord
) -> None:
    record, plaintext = identity.create_api_key(soc.id, "SIEM", actor="t")
    tampered = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")
    for candidate in (
        tampered,
        f"siq_{record.prefix}_",
        f"siq_{record.prefix}",
        plaintext.upper(),
        "siq_zzzzzzzz_" + plaintext[13:],
        "",
        "Bearer " + plaintext,
    ):
        assert identity.api_key_principal(candidate) is None, candidate


def test_revoked_key_stops_at_once(
    identity: IdentityService,
    soc: WorkspaceRecord,
    workspace_factory: Callable[[str], WorkspaceRecord],
    database: Database,
) -> None:
    other = workspace_factory("Other")
    record, plaintext = identity.create_api_key(soc.id, "SIEM", actor="t")
    keep, keep_plaintext = identity.create_api_key(soc.id, "EDR", actor="t")
    with pytest.raises(NotFoundError):
        identity.revoke_api_key(other.id, record.id, actor="intruder")
    assert identity.api_key_principal(plaintext) is not None

    identity.revoke_api_key(soc.id, record.id, actor="owner@example.test", ip="192.0.2.5")
    assert identity.api_key_principal(plaintext) is None
    assert identity.api_key_principal(keep_plaintext) is not None
    identity.revoke_api_key(soc.id, record.id, actor="owner@example.test")  # no-op
    revoked = {k.id: k.revoked_at for k in identity.list_api_keys(soc.id)}
    assert revoked[record.id] is not None
    assert revoked[keep.id] is None

    entries = AuditRepository(database).list(soc.id)
    (entry,) = [e for e in entries if e.action == "api_key.revoked"]
    assert (entry.actor, entry.target) == ("owner@example.test", f"api_key:{record.id}")
    assert entry.details == {"name": "SIEM", "prefix": record.prefix, "ip": "192.0.2.5"}
    assert len([e for e in entries if e.action == "api_key.created"]) == 2
    assert not [e for e in AuditRepository(database).list(other.id) if e.action.startswith("api")]


def test_last_used_is_written_at_most_once_a_minute(
    identity: IdentityService, soc: WorkspaceRecord, clock: FakeClock, raw_rows: Rows
) -> None:
    _, plaintext = identity.create_api_key(soc.id, "SIEM", actor="t")
    assert raw_rows("api_keys")[0]["last_used_at"] is None
    identity.api_key_principal(plaintext)
    first = clock.now
    assert _utc(raw_rows("api_keys")[0]["last_used_at"]) == first
    clock.advance(seconds=59)
    identity.api_key_principal(plaintext)
    assert _utc(raw_rows("api_keys")[0]["last_used_at"]) == first
    clock.advance(seconds=2)
    identity.api_key_principal(plaintext)
    assert _utc(raw_rows("api_keys")[0]["last_used_at"]) == clock.now
    (listed,) = identity.list_api_keys(soc.id)
    assert listed.last_used_at == clock.now


def test_prefix_collision_draws_a_new_prefix(
    identity: IdentityService, soc: WorkspaceRecord, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _ = identity.create_api_key(soc.id, "first", actor="t")
    prefixes: Iterator[str] = iter([first.prefix, first.prefix, "abcd1234"])
    monkeypatch.setattr(identity_module, "new_key_prefix", lambda: next(prefixes))
    second, plaintext = identity.create_api_key(soc.id, "second", actor="t")
    assert second.prefix == "abcd1234"
    assert plaintext.startswith("siq_abcd1234_")
    principal = identity.api_key_principal(plaintext)
    assert principal is not None
    assert principal.id == second.id

    monkeypatch.setattr(identity_module, "new_key_prefix", lambda: first.prefix)
    with pytest.raises(RuntimeError, match="prefix"):
        identity.create_api_key(soc.id, "third", actor="t")
    assert {k.name for k in identity.list_api_keys(soc.id)} == {"first", "second"}


def test_key_names_and_workspaces_are_checked(
    identity: IdentityService, soc: WorkspaceRecord
) -> None:
    for name in ("", "   ", "x" * 101):
        with pytest.raises(ValueError, match=r"^name: "):
            identity.create_api_key(soc.id, name, actor="t")
    with pytest.raises(NotFoundError):
        identity.create_api_key("00000000-0000-0000-0000-000000000000", "SIEM", actor="t")
    assert identity.list_api_keys(soc.id) == []
