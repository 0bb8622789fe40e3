"""Workspaces and the audit trail."""

from __future__ import annotations

import pytest

from sentineliq.storage import (
    MASK,
    AlreadyExistsError,
    AuditRepository,
    Database,
    WorkspaceRepository,
)


def test_create_get_list(database: Database) -> None:
    repo = WorkspaceRepository(database)
    created = repo.create("  blue-team ", actor="cli")
    assert created.name == "blue-team"
    assert repo.get(created.id) == created
    assert repo.get_by_name("blue-team") == created
    assert repo.get("missing") is None
    assert repo.get_by_name("missing") is None
    repo.create("alpha")
    assert [w.name for w in repo.list()] == ["alpha", "blue-team"]
    with pytest.raises(AlreadyExistsError):
        repo.create("blue-team")
    assert repo.get_or_create("blue-team") == created
    assert repo.get_or_create("gamma").name == "gamma"
    with pytest.raises(ValueError, match="1 to 100"):
        repo.create("   ")


def test_audit_records_newest_first_and_masks_secret_keys(database: Database) -> None:
    workspace = WorkspaceRepository(database).create("audited", actor="cli")
    audit = AuditRepository(database)
    audit.record(
        "provider.tested",
        actor="alice@example.com",
        workspace_id=workspace.id,
        target="provider:jira",
        details={"ok": True, "api_token": "leak-me", "nested": {"password": "p", "user": "u"}},
    )
    audit.record("system.started", actor="worker")
    entries = audit.list(workspace.id)
    assert [e.action for e in entries] == ["provider.tested", "workspace.created"]
    assert entries[0].details == {
        "ok": True,
        "api_token": MASK,
        "nested": {"password": MASK, "user": "u"},
    }
    assert entries[1].actor == "cli"
    everything = audit.list(limit=10)
    assert everything[0].action == "system.started"
    assert len(audit.list(limit=1)) == 1
