"""Assignee mappings on SQLite and PostgreSQL: normalized emails, validation naming the field,
replace and delete audited in the same transaction, workspaces kept apart."""

from __future__ import annotations

import pytest

from sentineliq.storage import (
    AssigneeRepository,
    AuditRepository,
    Database,
    NotFoundError,
    WorkspaceRecord,
    WorkspaceRepository,
)

ACCOUNT = "712020:6b0ed771-fd7f-5f7d-a3e7-0dd9854ec5c2"


def test_put_normalizes_the_email_and_get_finds_any_spelling(
    database: Database, workspace: WorkspaceRecord
) -> None:
    repo = AssigneeRepository(database)
    record, created = repo.put(workspace.id, "  Analyst@Corp.TEST ", ACCOUNT, actor="alice")
    assert created
    assert (record.email, record.account_id, record.updated_by) == (
        "analyst@corp.test",
        ACCOUNT,
        "alice",
    )
    assert repo.account_for(workspace.id, "ANALYST@corp.test") == ACCOUNT
    assert repo.account_for(workspace.id, "other@corp.test") is None
    assert repo.account_for(workspace.id, "not an email") is None
    assert [m.email for m in repo.list(workspace.id)] == ["analyst@corp.test"]


def test_put_replaces_and_audits_only_changes(
    database: Database, workspace: WorkspaceRecord
) -> None:
    repo = AssigneeRepository(database)
    repo.put(workspace.id, "a@corp.test", "5b10ac8d82e05b22cc7d4ef5", actor="alice")
    again, created = repo.put(workspace.id, "A@corp.test", ACCOUNT, actor="bob")
    assert not created
    assert again.account_id == ACCOUNT
    assert again.updated_by == "bob"
    repo.put(workspace.id, "a@corp.test", ACCOUNT, actor="carol")  # no change, no audit entry
    assert len(repo.list(workspace.id)) == 1
    mapped = [
        e for e in AuditRepository(database).list(workspace.id) if e.action == "assignee.mapped"
    ]
    assert [(e.actor, e.details["previous_account_id"]) for e in mapped] == [
        ("bob", "5b10ac8d82e05b22cc7d4ef5"),
        ("alice", None),
    ]
    assert mapped[0].target == "assignee:a@corp.test"


def test_delete_is_audited_and_unknown_email_is_not_found(
    database: Database, workspace: WorkspaceRecord
) -> None:
    repo = AssigneeRepository(database)
    repo.put(workspace.id, "a@corp.test", ACCOUNT, actor="alice")
    removed = repo.delete(workspace.id, " A@CORP.test", actor="bob", origin={"ip": "10.0.0.1"})
    assert removed.account_id == ACCOUNT
    assert repo.list(workspace.id) == []
    (entry,) = [
        e for e in AuditRepository(database).list(workspace.id) if e.action == "assignee.unmapped"
    ]
    assert entry.details == {"email": "a@corp.test", "account_id": ACCOUNT, "ip": "10.0.0.1"}
    with pytest.raises(NotFoundError, match=r"no assignee mapping for a@corp\.test"):
        repo.delete(workspace.id, "a@corp.test", actor="bob")


def test_workspaces_are_kept_apart(database: Database, workspace: WorkspaceRecord) -> None:
    other = WorkspaceRepository(database).create("other-soc")
    repo = AssigneeRepository(database)
    repo.put(workspace.id, "a@corp.test", ACCOUNT, actor="alice")
    repo.put(other.id, "a@corp.test", "5b10ac8d82e05b22cc7d4ef5", actor="alice")
    assert repo.account_for(workspace.id, "a@corp.test") == ACCOUNT
    assert repo.account_for(other.id, "a@corp.test") == "5b10ac8d82e05b22cc7d4ef5"
    with pytest.raises(NotFoundError):
        repo.put("00000000-0000-0000-0000-000000000000", "a@corp.test", ACCOUNT, actor="x")


@pytest.mark.parametrize(
    ("email", "account_id", "message"),
    [
        ("", ACCOUNT, "email: enter"),
        ("no-at-sign", ACCOUNT, "email: not an email address"),
        ("two@@corp.test", ACCOUNT, "email: not an email address"),
        ("a b@corp.test", ACCOUNT, "email: not an email address"),
        ("x" * 311 + "@corp.test", ACCOUNT, "email: at most 320"),
        ("a@corp.test", "  ", "account_id: enter"),
        ("a@corp.test", "x" * 129, "account_id: at most 128"),
        ("a@corp.test", "acc id", "account_id: only letters"),
        ("a@corp.test", "<script>", "account_id: only letters"),
    ],
)
def test_bad_input_names_the_field(
    database: Database, workspace: WorkspaceRecord, email: str, account_id: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        AssigneeRepository(database).put(workspace.id, email, account_id, actor="alice")
    assert AssigneeRepository(database).list(workspace.id) == []
