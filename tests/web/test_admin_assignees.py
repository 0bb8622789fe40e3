"""The panel's Assignees page: everyone in the workspace sees the mappings, owners and admins add
and remove them through CSRF-checked forms, bad input is shown under its field."""

from __future__ import annotations

import admin_fixtures
import pytest
from admin_fixtures import ADMIN, MEMBER, OUTSIDER, OWNER, World, sign_in
from fastapi.testclient import TestClient

from sentineliq.storage.assignees import AssigneeRepository
from sentineliq.storage.audit import AuditRepository

admin_world = admin_fixtures.admin_world
admin_client = admin_fixtures.admin_client

ACCOUNT = "712020:6b0ed771-fd7f-5f7d-a3e7-0dd9854ec5c2"


def page_of(world: World) -> str:
    return f"/w/{world.acme.id}/assignees"


def mappings(world: World) -> list[tuple[str, str]]:
    return [(m.email, m.account_id) for m in AssigneeRepository(world.app.db).list(world.acme.id)]


def test_an_admin_adds_and_removes_a_mapping(admin_client: TestClient, admin_world: World) -> None:
    csrf = sign_in(admin_client, ADMIN)
    base = page_of(admin_world)
    empty = admin_client.get(base)
    assert empty.status_code == 200
    assert "No assignee mappings" in empty.text
    added = admin_client.post(
        base, data={"csrf_token": csrf, "email": " Analyst@Acme.TEST ", "account_id": ACCOUNT}
    )
    assert added.status_code == 303
    assert added.headers["location"] == f"{base}?done=assignee_mapped"
    assert mappings(admin_world) == [("analyst@acme.test", ACCOUNT)]
    listing = admin_client.get(added.headers["location"])
    assert "Mapping saved" in listing.text
    assert "analyst@acme.test" in listing.text
    assert ACCOUNT in listing.text
    removed = admin_client.post(
        base + "/remove", data={"csrf_token": csrf, "email": "analyst@acme.test"}
    )
    assert removed.status_code == 303
    assert mappings(admin_world) == []
    actions = [e.action for e in AuditRepository(admin_world.app.db).list(admin_world.acme.id)]
    assert {"assignee.mapped", "assignee.unmapped"} <= set(actions)
    gone = admin_client.post(
        base + "/remove", data={"csrf_token": csrf, "email": "analyst@acme.test"}
    )
    assert gone.status_code == 404


@pytest.mark.parametrize(
    ("email", "account_id", "field"),
    [("no-at-sign", ACCOUNT, "email"), ("a@acme.test", "not an id", "account_id")],
)
def test_bad_input_is_shown_under_its_field(
    admin_client: TestClient, admin_world: World, email: str, account_id: str, field: str
) -> None:
    csrf = sign_in(admin_client, OWNER)
    answer = admin_client.post(
        page_of(admin_world), data={"csrf_token": csrf, "email": email, "account_id": account_id}
    )
    assert answer.status_code == 422
    assert f'id="{field}-error"' in answer.text
    assert f'value="{email}"' in answer.text  # what was typed stays in the form
    assert mappings(admin_world) == []


def test_a_member_sees_mappings_but_cannot_change_them(
    admin_client: TestClient, admin_world: World
) -> None:
    AssigneeRepository(admin_world.app.db).put(
        admin_world.acme.id, "analyst@acme.test", ACCOUNT, actor="t"
    )
    csrf = sign_in(admin_client, MEMBER)
    base = page_of(admin_world)
    listing = admin_client.get(base)
    assert listing.status_code == 200
    assert ACCOUNT in listing.text
    assert "Save mapping" not in listing.text
    assert "Remove" not in listing.text
    add = admin_client.post(
        base, data={"csrf_token": csrf, "email": "x@acme.test", "account_id": "a"}
    )
    remove = admin_client.post(
        base + "/remove", data={"csrf_token": csrf, "email": "analyst@acme.test"}
    )
    assert (add.status_code, remove.status_code) == (403, 403)
    assert mappings(admin_world) == [("analyst@acme.test", ACCOUNT)]


def test_forms_need_the_session_csrf_token(admin_client: TestClient, admin_world: World) -> None:
    sign_in(admin_client, OWNER)
    for data in ({}, {"csrf_token": "forged"}):
        answer = admin_client.post(
            page_of(admin_world), data={**data, "email": "a@acme.test", "account_id": ACCOUNT}
        )
        assert answer.status_code == 403
    assert mappings(admin_world) == []


def test_another_workspace_looks_like_no_workspace(
    admin_client: TestClient, admin_world: World
) -> None:
    csrf = sign_in(admin_client, OUTSIDER)
    assert admin_client.get(page_of(admin_world)).status_code == 404
    answer = admin_client.post(
        page_of(admin_world), data={"csrf_token": csrf, "email": "a@acme.test", "account_id": "a"}
    )
    assert answer.status_code == 404
    assert mappings(admin_world) == []
