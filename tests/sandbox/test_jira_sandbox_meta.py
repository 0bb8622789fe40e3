"""Auth, server/user/project metadata and createmeta of the Jira sandbox, over real HTTP."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx2
import pytest

from sentineliq.sandbox.jira import (
    ADMIN_EMAIL,
    ANALYST_EMAIL,
    PRIVATE_EMAIL,
    READONLY_EMAIL,
    JiraSandbox,
)
from sentineliq.sandbox.jira.model import account_id_for

API = "/rest/api/3"


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        _basic(ADMIN_EMAIL, "wrong-token"),
        _basic("nobody@sentineliq.test", "sandbox-token"),
        _basic(ANALYST_EMAIL, ""),  # a user without an API token cannot log in
        {"Authorization": "Bearer sandbox-token"},
        {"Authorization": "Basic !!not-base64!!"},
    ],
    ids=["missing", "wrong-token", "unknown-user", "no-token-user", "bearer", "garbage"],
)
def test_rest_calls_without_valid_credentials_get_401(
    anon: httpx2.Client, headers: dict[str, str]
) -> None:
    response = anon.get(f"{API}/myself", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert response.json()["errorMessages"] == [
        "Client must be authenticated to access this resource."
    ]
    assert "sandbox-token" not in response.text


def test_email_matches_case_insensitively_but_token_exactly(anon: httpx2.Client) -> None:
    assert anon.get(
        f"{API}/myself", headers=_basic(ADMIN_EMAIL.upper(), "sandbox-token")
    ).is_success
    assert (
        anon.get(f"{API}/myself", headers=_basic(ADMIN_EMAIL, "SANDBOX-TOKEN")).status_code == 401
    )


def test_server_info_is_anonymous_and_says_cloud(anon: httpx2.Client, sandbox: JiraSandbox) -> None:
    info = anon.get(f"{API}/serverInfo").json()
    assert info["deploymentType"] == "Cloud"
    assert info["baseUrl"] == sandbox.url


def test_myself_describes_the_caller(client: httpx2.Client) -> None:
    me = client.get(f"{API}/myself").json()
    assert me["emailAddress"] == ADMIN_EMAIL
    assert me["accountId"] == account_id_for(ADMIN_EMAIL)
    assert me["accountType"] == "atlassian"
    assert me["active"] is True


def test_project_by_key_and_id_and_keys_are_case_sensitive(client: httpx2.Client) -> None:
    by_key = client.get(f"{API}/project/SEC").json()
    assert (by_key["id"], by_key["key"], by_key["name"]) == ("10000", "SEC", "Security Operations")
    assert client.get(f"{API}/project/10000").json()["key"] == "SEC"
    missing = client.get(f"{API}/project/sec")
    assert missing.status_code == 404
    assert missing.json()["errorMessages"] == ["No project could be found with key 'sec'."]


def test_createmeta_lists_issue_types_with_paging(client: httpx2.Client) -> None:
    page = client.get(f"{API}/issue/createmeta/SEC/issuetypes").json()
    assert [(t["id"], t["name"]) for t in page["issueTypes"]] == [
        ("10001", "Task"),
        ("10002", "Bug"),
        ("10003", "Incident"),
    ]
    assert (page["startAt"], page["maxResults"], page["total"]) == (0, 50, 3)
    second = client.get(
        f"{API}/issue/createmeta/SEC/issuetypes", params={"startAt": 1, "maxResults": 1}
    ).json()
    assert [t["name"] for t in second["issueTypes"]] == ["Bug"]


def test_createmeta_rejects_max_results_over_200(client: httpx2.Client) -> None:
    response = client.get(f"{API}/issue/createmeta/SEC/issuetypes", params={"maxResults": 201})
    assert response.status_code == 400
    assert response.json()["errorMessages"] == [
        "Parameter 'maxResults' must not exceed the limit '200'"
    ]


def test_createmeta_fields_describe_the_create_screen(client: httpx2.Client) -> None:
    fields = {
        f["fieldId"]: f
        for f in client.get(f"{API}/issue/createmeta/SEC/issuetypes/10003").json()["fields"]
    }
    assert set(fields) == {
        "summary",
        "issuetype",
        "project",
        "description",
        "priority",
        "labels",
        "assignee",
        "reporter",
        "duedate",
        "customfield_10050",
        "customfield_10051",
        "customfield_10052",
        "issuelinks",  # "Linked Issues", on a default Cloud create screen; `update` only
    }
    assert fields["issuelinks"]["operations"] == ["add"]
    assert fields["issuelinks"]["schema"]["items"] == "issuelinks"
    assert fields["summary"]["required"] is True
    assert fields["priority"]["hasDefaultValue"] is True
    assert [p["name"] for p in fields["priority"]["allowedValues"]] == [
        "Highest",
        "High",
        "Medium",
        "Low",
        "Lowest",
    ]
    assert [t["id"] for t in fields["issuetype"]["allowedValues"]] == ["10003"]
    assert fields["customfield_10050"]["schema"] == {
        "type": "number",
        "custom": "com.atlassian.jira.plugin.system.customfieldtypes:float",
        "customId": 10050,
    }
    assert fields["customfield_10051"]["schema"]["custom"].endswith(":textfield")
    assert fields["customfield_10052"]["schema"]["custom"].endswith(":textarea")
    assert fields["labels"]["schema"] == {"type": "array", "items": "string", "system": "labels"}


def test_removing_a_field_from_the_screen_hides_it_from_createmeta(
    client: httpx2.Client, sandbox: JiraSandbox
) -> None:
    sandbox.remove_field_from_screen("SEC", "Incident", "priority")
    incident = client.get(f"{API}/issue/createmeta/SEC/issuetypes/10003").json()["fields"]
    task = client.get(f"{API}/issue/createmeta/SEC/issuetypes/10001").json()["fields"]
    assert "priority" not in [f["fieldId"] for f in incident]
    assert "priority" in [f["fieldId"] for f in task]


def test_screen_changes_are_refused_for_required_or_unknown_things(sandbox: JiraSandbox) -> None:
    with pytest.raises(ValueError, match="required"):
        sandbox.remove_field_from_screen("SEC", "Task", "summary")
    with pytest.raises(ValueError, match="no project"):
        sandbox.remove_field_from_screen("NOPE", "Task", "priority")
    with pytest.raises(ValueError, match="no issue type"):
        sandbox.remove_field_from_screen("SEC", "Epic", "priority")


def test_user_without_create_permission_sees_no_issue_types(readonly: httpx2.Client) -> None:
    assert readonly.get(f"{API}/issue/createmeta/SEC/issuetypes").json()["issueTypes"] == []
    assert readonly.get(f"{API}/issue/createmeta/SEC/issuetypes/10001").status_code == 404


def test_field_list_includes_custom_fields(client: httpx2.Client) -> None:
    fields = {f["id"]: f for f in client.get(f"{API}/field").json()}
    assert fields["customfield_10050"]["name"] == "Threat score"
    assert fields["customfield_10050"]["custom"] is True
    assert fields["summary"]["custom"] is False
    assert "cf[10051]" in fields["customfield_10051"]["clauseNames"]


def test_user_search_matches_prefixes_of_name_and_email(client: httpx2.Client) -> None:
    by_email = client.get(f"{API}/user/search", params={"query": "analyst@"}).json()
    assert [u["accountId"] for u in by_email] == [account_id_for(ANALYST_EMAIL)]
    by_word = client.get(f"{API}/user/search", params={"query": "ale"}).json()
    assert [u["displayName"] for u in by_word] == ["Alex Analyst"]
    assert client.get(f"{API}/user/search", params={"query": "zz-nobody"}).json() == []


def test_user_search_hides_private_email_addresses(client: httpx2.Client) -> None:
    # A hidden address can be looked up exactly but is never shown or matched by prefix.
    exact = client.get(f"{API}/user/search", params={"query": PRIVATE_EMAIL}).json()
    assert [u["displayName"] for u in exact] == ["Morgan Private"]
    assert "emailAddress" not in exact[0]
    assert client.get(f"{API}/user/search", params={"query": "private@"}).json() == []


def test_user_search_needs_a_query_and_browse_permission(
    client: httpx2.Client, sandbox: JiraSandbox, make_client: Callable[..., httpx2.Client]
) -> None:
    assert client.get(f"{API}/user/search").status_code == 400
    sandbox.add_user(
        "nobrowse@sentineliq.test", "No Browse", api_token="t0k", can_browse_users=False
    )
    c = make_client(auth=("nobrowse@sentineliq.test", "t0k"))
    response = c.get(f"{API}/user/search", params={"query": "alex"})
    assert response.status_code == 200
    assert response.json() == []


def test_assignable_search_excludes_users_who_cannot_work_on_issues(
    client: httpx2.Client,
) -> None:
    users = client.get(
        f"{API}/user/assignable/search", params={"project": "SEC", "query": ""}
    ).json()
    ids = {u["accountId"] for u in users}
    assert account_id_for(ANALYST_EMAIL) in ids
    assert account_id_for(ADMIN_EMAIL) in ids
    assert account_id_for(READONLY_EMAIL) not in ids
    assert client.get(f"{API}/user/assignable/search", params={"query": "a"}).status_code == 400
    assert (
        client.get(
            f"{API}/user/assignable/search", params={"project": "NOPE", "query": "a"}
        ).status_code
        == 404
    )


def test_unknown_paths_and_methods_answer_json(client: httpx2.Client) -> None:
    missing = client.get(f"{API}/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"].startswith("application/json")
    assert missing.json()["errorMessages"]
    wrong_method = client.delete(f"{API}/field")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Allow"] == "GET"
