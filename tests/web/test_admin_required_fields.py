"""The panel's Jira form after Test connection: the project's required fields, each with a
select of its allowed values, saved as field values."""

from __future__ import annotations

from collections.abc import Iterator

import admin_fixtures
import pytest
from admin_fixtures import ADMIN, World, csrf_of, sign_in
from fastapi.testclient import TestClient

from sentineliq.sandbox.jira import ADMIN_EMAIL, ADMIN_TOKEN, JiraSandbox
from sentineliq.sandbox.jira.seed import TEAM_FIELD
from sentineliq.storage.providers import ProviderRepository

admin_world = admin_fixtures.admin_world
admin_client = admin_fixtures.admin_client


@pytest.fixture
def sandbox() -> Iterator[JiraSandbox]:
    with JiraSandbox(host="127.0.0.1", port=0) as started:
        yield started


def form(csrf: str, sandbox: JiraSandbox, action: str, **extra: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf,
        "action": action,
        "base_url": sandbox.url,
        "email": ADMIN_EMAIL,
        "api_token": ADMIN_TOKEN,
        "project_key": "SEC",
        "issue_type": "Task",
        **{f"priority_{n}": v for n, v in (("low", "Low"), ("medium", "Medium"))},
        "priority_high": "High",
        "priority_critical": "Highest",
        "priority_urgent": "Highest",
    }
    data.update(extra)
    return data


def test_test_connection_lists_required_fields_and_save_keeps_the_choice(
    admin_client: TestClient, admin_world: World, sandbox: JiraSandbox
) -> None:
    sandbox.require_field("SEC", TEAM_FIELD)
    csrf = sign_in(admin_client, ADMIN)
    url = f"/w/{admin_world.acme.id}/settings/integrations"
    page = admin_client.post(url + "/jira", data=form(csrf, sandbox, "test"))
    assert page.status_code == 200
    html = page.text
    assert "Connection test failed" in html
    assert "Team (customfield_10060), allowed: Blue Team, Red Team" in html  # the check
    # The form row for it: hidden field id, a select of its allowed values.
    assert f'name="fv_field_0" value="{TEAM_FIELD}"' in html
    assert '<select id="fv_value_0" name="fv_value_0">' in html
    assert '<option value="Blue Team">Blue Team</option>' in html
    assert '<option value="Red Team">Red Team</option>' in html

    chosen = {"fv_field_0": TEAM_FIELD, "fv_value_0": "Red Team"}
    tested = admin_client.post(url + "/jira", data=form(csrf_of(html), sandbox, "test", **chosen))
    assert "Connection test passed" in tested.text, tested.text
    assert '<option value="Red Team" selected>Red Team</option>' in tested.text

    saved = admin_client.post(url + "/jira", data=form(csrf, sandbox, "save", **chosen))
    assert saved.status_code == 303, saved.text
    record = ProviderRepository(admin_world.app.db, admin_world.app.secrets).get(
        admin_world.acme.id, "jira", decrypt=False
    )
    assert record is not None
    assert record.config["field_values"] == {TEAM_FIELD: "Red Team"}
    shown = admin_client.get(url).text
    assert f'name="fv_field_0" type="text" value="{TEAM_FIELD}"' in shown
    assert 'name="fv_value_0" type="text" value="Red Team"' in shown
    assert f"<dt>Field values</dt><dd>{TEAM_FIELD} = Red Team</dd>" in shown


def test_a_field_value_error_is_shown_under_the_field_values(
    admin_client: TestClient, admin_world: World, sandbox: JiraSandbox
) -> None:
    csrf = sign_in(admin_client, ADMIN)
    url = f"/w/{admin_world.acme.id}/settings/integrations"
    page = admin_client.post(
        url + "/jira", data=form(csrf, sandbox, "save", fv_field_0="Team", fv_value_0="")
    )
    assert page.status_code == 422
    assert "&#39;Team&#39; must not be empty" in page.text
