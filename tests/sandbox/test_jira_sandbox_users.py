"""User privacy in the sandbox: hidden emails, assignable search and account types, over HTTP."""

from __future__ import annotations

import httpx2
import pytest

from sentineliq.sandbox.jira import ANALYST_EMAIL, PRIVATE_EMAIL, JiraSandbox
from sentineliq.sandbox.jira.model import account_id_for
from sentineliq.sandbox.jira.seed import HIDDEN_EMAIL_USERS

API = "/rest/api/3"
ASSIGNABLE = f"{API}/user/assignable/search"


def assignable(client: httpx2.Client, query: str, project: str = "SEC") -> list[dict[str, object]]:
    response = client.get(ASSIGNABLE, params={"project": project, "query": query})
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, list)
    return body


def test_most_seeded_people_hide_their_email(client: httpx2.Client) -> None:
    people = assignable(client, "")
    hidden = [u for u in people if "emailAddress" not in u]
    assert len(hidden) > len(people) - len(hidden)
    assert {u["accountType"] for u in people} == {"atlassian"}


def test_assignable_search_finds_a_hidden_email_exactly_but_never_shows_it(
    client: httpx2.Client,
) -> None:
    email, name = HIDDEN_EMAIL_USERS[0]
    (found,) = assignable(client, email.upper())
    assert found["accountId"] == account_id_for(email)
    assert found["displayName"] == name
    assert "emailAddress" not in found
    # A prefix of a hidden address enumerates nobody.
    assert assignable(client, email[:-3]) == []
    assert assignable(client, email.split("@")[0] + "@") == []


def test_assignable_search_needs_a_query_or_account_id(client: httpx2.Client) -> None:
    response = client.get(ASSIGNABLE, params={"project": "SEC"})
    assert response.status_code == 400
    assert response.json()["errorMessages"] == ["One of 'query' or 'accountId' must be provided."]
    by_id = client.get(
        ASSIGNABLE, params={"project": "SEC", "accountId": account_id_for(PRIVATE_EMAIL)}
    ).json()
    assert [u["accountId"] for u in by_id] == [account_id_for(PRIVATE_EMAIL)]


def test_assignable_search_leaves_out_people_who_cannot_be_assigned(
    client: httpx2.Client, sandbox: JiraSandbox
) -> None:
    sandbox.add_user("viewer@sentineliq.test", "Vera Viewer", can_create=False)
    sandbox.add_user("left@sentineliq.test", "Lee Left", active=False)
    assert assignable(client, "viewer@sentineliq.test") == []
    assert assignable(client, "left@sentineliq.test") == []
    # The plain user search still finds the viewer: only the assignable one filters.
    found = client.get(f"{API}/user/search", params={"query": "viewer@sentineliq.test"}).json()
    assert [u["displayName"] for u in found] == ["Vera Viewer"]


def test_emails_can_be_hidden_and_shown_per_user_or_for_everybody(
    client: httpx2.Client, sandbox: JiraSandbox
) -> None:
    (analyst,) = assignable(client, ANALYST_EMAIL)
    assert analyst["emailAddress"] == ANALYST_EMAIL
    sandbox.set_emails_hidden(True, email=ANALYST_EMAIL)
    (analyst,) = assignable(client, ANALYST_EMAIL)
    assert "emailAddress" not in analyst
    assert assignable(client, "analyst@") == []  # no longer matched by prefix
    sandbox.set_emails_hidden(False)
    assert all("emailAddress" in u for u in assignable(client, ""))
    sandbox.set_emails_hidden(True)
    assert all("emailAddress" not in u for u in assignable(client, ""))
    with pytest.raises(ValueError, match="no user"):
        sandbox.set_emails_hidden(True, email="ghost@sentineliq.test")


def test_account_types_and_the_control_api(client: httpx2.Client, sandbox: JiraSandbox) -> None:
    with httpx2.Client(base_url=sandbox.url, timeout=10.0) as control:
        made = control.post(
            "/_sandbox/users",
            json={
                "email": "bot@sentineliq.test",
                "display_name": "Automation Bot",
                "account_type": "app",
                "email_visible": False,
            },
        )
        assert made.status_code == 201
        assert control.post("/_sandbox/emails-hidden", json={"hidden": "yes"}).status_code == 400
        shown = control.post(
            "/_sandbox/emails-hidden", json={"hidden": False, "email": "bot@sentineliq.test"}
        )
        assert shown.status_code == 200
    (bot,) = assignable(client, "bot@sentineliq.test")
    assert bot["accountType"] == "app"
    assert bot["emailAddress"] == "bot@sentineliq.test"
    with pytest.raises(ValueError, match="account_type"):
        sandbox.add_user("x@sentineliq.test", "X", account_type="robot")
