"""Creating and reading issues in the Jira sandbox: Jira Cloud's rules, one by one."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from sentineliq.sandbox.jira import ADMIN_EMAIL, ANALYST_EMAIL, READONLY_EMAIL, JiraSandbox
from sentineliq.sandbox.jira.model import account_id_for

API = "/rest/api/3"
Create = Callable[..., httpx2.Response]
NOT_ON_SCREEN = "Field '{}' cannot be set. It is not on the appropriate screen, or unknown."


def adf(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": list(blocks)}


def para(text: str) -> dict[str, Any]:
    return {"type": "paragraph", "content": [{"type": "text", "text": text}]}


def field_errors(response: httpx2.Response) -> dict[str, str]:
    assert response.status_code == 400, response.text
    errors: dict[str, str] = response.json()["errors"]
    return errors


def test_create_happy_path_stores_every_field(
    create: Create, client: httpx2.Client, sandbox: JiraSandbox
) -> None:
    analyst = account_id_for(ANALYST_EMAIL)
    description = adf(
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "What"}]},
        para("Impossible travel for alice."),
    )
    response = create(
        issuetype={"name": "Incident"},
        description=description,
        priority={"name": "High"},
        labels=["security-alert", "alertfp-0123456789ab", "security-alert"],
        assignee={"accountId": analyst},
        duedate="2026-12-24",
        customfield_10050=87.5,
        customfield_10051="guardduty",
        customfield_10052=adf(para("Checked with the user.")),
        properties=[{"key": "sentineliq", "value": {"fingerprint": "0123456789ab"}}],
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created == {
        "id": "10001",
        "key": "SEC-1",
        "self": f"{sandbox.url}/rest/api/3/issue/10001",
    }

    fields = client.get(f"{API}/issue/SEC-1").json()["fields"]
    assert fields["summary"] == "Suspicious login from a new country"
    assert fields["description"] == description
    assert fields["issuetype"]["name"] == "Incident"
    assert fields["project"]["key"] == "SEC"
    assert fields["priority"]["id"] == "2"
    assert fields["labels"] == ["security-alert", "alertfp-0123456789ab"]  # stored once each
    assert fields["assignee"]["accountId"] == analyst
    assert fields["reporter"]["emailAddress"] == ADMIN_EMAIL  # defaults to the caller
    assert fields["duedate"] == "2026-12-24"
    assert fields["customfield_10050"] == 87.5
    assert fields["customfield_10051"] == "guardduty"
    assert fields["customfield_10052"] == adf(para("Checked with the user."))
    assert fields["status"]["name"] == "To Do"

    prop = client.get(f"{API}/issue/SEC-1/properties/sentineliq").json()
    assert prop == {"key": "sentineliq", "value": {"fingerprint": "0123456789ab"}}
    [snapshot] = sandbox.issues()
    assert snapshot["key"] == "SEC-1"
    assert snapshot["properties"] == {"sentineliq": {"fingerprint": "0123456789ab"}}


def test_keys_count_up_and_priority_defaults_to_medium(
    create: Create, client: httpx2.Client
) -> None:
    keys = [create().json()["key"] for _ in range(3)]
    assert keys == ["SEC-1", "SEC-2", "SEC-3"]
    assert client.get(f"{API}/issue/SEC-2").json()["fields"]["priority"]["name"] == "Medium"
    assert client.get(f"{API}/issue/10003").json()["key"] == "SEC-3"
    assert client.get(f"{API}/issue/sec-3").json()["key"] == "SEC-3"
    assert client.get(f"{API}/issue/SEC-99").status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"summary": "x" * 256}, "summary", "Summary can't exceed 255 characters."),
        (
            {"summary": "first line\nsecond line"},
            "summary",
            "The summary is invalid because it contains newline characters.",
        ),
        ({"summary": "   "}, "summary", "You must specify a summary of the issue."),
        ({"summary": None}, "summary", "You must specify a summary of the issue."),
        (
            {"labels": ["Severity: high"]},
            "labels",
            "The label 'Severity: high' can't contain spaces.",
        ),
        ({"labels": ["tab\there"]}, "labels", "The label 'tab\there' can't contain spaces."),
        (
            {"labels": ["l" * 256]},
            "labels",
            f"The label '{'l' * 256}' exceeds the maximum length for a single label of 255 "
            "characters.",
        ),
        ({"priority": {"id": "42"}}, "priority", "The priority selected is invalid."),
        ({"duedate": "24/12/2026"}, "duedate", "Error parsing date string: 24/12/2026"),
        ({"duedate": "2026-02-30"}, "duedate", "Error parsing date string: 2026-02-30"),
        ({"customfield_10050": "high"}, "customfield_10050", "Operation value must be a number"),
        ({"customfield_10050": True}, "customfield_10050", "Operation value must be a number"),
        (
            {"customfield_10051": adf(para("x"))},
            "customfield_10051",
            "Operation value must be a string",
        ),
        (
            {"description": "plain text is not ADF"},
            "description",
            "Operation value must be an Atlassian Document (see the Atlassian Document Format)",
        ),
        (
            {"customfield_10052": "plain text"},
            "customfield_10052",
            "Operation value must be an Atlassian Document (see the Atlassian Document Format)",
        ),
        ({"status": {"name": "Done"}}, "status", NOT_ON_SCREEN.format("status")),
        ({"customfield_99999": 1}, "customfield_99999", NOT_ON_SCREEN.format("customfield_99999")),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_jira_field_rules(
    create: Create, overrides: dict[str, Any], field: str, message: str
) -> None:
    assert field_errors(create(**overrides)) == {field: message}


@pytest.mark.parametrize("legacy", [{"name": "alex"}, {"emailAddress": ANALYST_EMAIL}])
def test_assignee_must_be_an_account_id(create: Create, legacy: dict[str, str]) -> None:
    errors = field_errors(create(assignee=legacy))
    assert set(errors) == {"assignee"}
    assert "accountId" in errors["assignee"]


def test_assignee_must_exist_and_be_assignable(create: Create) -> None:
    unknown = field_errors(create(assignee={"accountId": "712020:nobody"}))
    assert unknown == {
        "assignee": "Specified user does not exist or you do not have required permissions"
    }
    readonly_id = account_id_for(READONLY_EMAIL)
    assert field_errors(create(assignee={"accountId": readonly_id})) == {
        "assignee": f"User '{readonly_id}' cannot be assigned issues."
    }
    assert create(assignee=None).status_code == 201  # explicitly unassigned


def test_all_field_problems_come_back_together(create: Create) -> None:
    errors = field_errors(create(summary="a\nb", labels=["a b"], customfield_10050="x"))
    assert set(errors) == {"summary", "labels", "customfield_10050"}


def test_field_removed_from_screen_cannot_be_set(create: Create, sandbox: JiraSandbox) -> None:
    assert create(priority={"id": "1"}).status_code == 201
    sandbox.remove_field_from_screen("SEC", "Task", "priority")
    assert field_errors(create(priority={"id": "1"})) == {
        "priority": NOT_ON_SCREEN.format("priority")
    }
    assert create().status_code == 201  # still fine without it
    assert (
        create(issuetype={"id": "10002"}, priority={"id": "1"}).status_code == 201
    )  # Bug keeps it


@pytest.mark.parametrize(
    ("description", "fragment"),
    [
        (adf({"type": "paragraph", "content": [{"type": "text", "text": ""}]}), "non-empty"),
        (
            adf(
                {
                    "type": "heading",
                    "attrs": {"level": 7},
                    "content": [{"type": "text", "text": "x"}],
                }
            ),
            "level",
        ),
        (adf({"type": "marquee"}), "node type 'marquee' is not allowed"),
        ({"type": "doc", "content": []}, "'version' is a required property"),
        ({"type": "doc", "version": 2, "content": []}, "version"),
        (adf({"type": "bulletList", "content": []}), "should be non-empty"),
    ],
    ids=["empty-text", "heading-7", "unknown-node", "no-version", "version-2", "empty-list"],
)
def test_invalid_adf_is_rejected(
    create: Create, description: dict[str, Any], fragment: str
) -> None:
    errors = field_errors(create(description=description))
    assert set(errors) == {"description"}
    assert errors["description"].startswith("Invalid Atlassian Document Format")
    assert fragment in errors["description"]


def _doc_of_serialized_length(length: int) -> dict[str, Any]:
    doc = adf(para("x"))
    overhead = len(json.dumps(doc, separators=(",", ":"))) - 1
    return adf(para("x" * (length - overhead)))


def test_description_limit_is_32767_serialized_characters(create: Create) -> None:
    at_limit = _doc_of_serialized_length(32_767)
    assert len(json.dumps(at_limit, separators=(",", ":"))) == 32_767
    assert create(description=at_limit).status_code == 201
    assert field_errors(create(description=_doc_of_serialized_length(32_768))) == {
        "description": "The entered text is too long. It exceeds the allowed limit of 32,767 "
        "characters."
    }


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"project": {"key": "NOPE"}}, "project", "Specify a valid project ID or key"),
        ({"project": {"key": "sec"}}, "project", "Specify a valid project ID or key"),
        ({"issuetype": {"id": "99"}}, "issuetype", "The issue type selected is invalid."),
        ({"issuetype": None}, "issuetype", "Specify an issue type"),
    ],
)
def test_unknown_project_or_issue_type(
    create: Create, overrides: dict[str, Any], field: str, message: str
) -> None:
    assert field_errors(create(**overrides)) == {field: message}


def test_project_and_issue_type_accept_ids_and_names(create: Create, client: httpx2.Client) -> None:
    response = create(project={"id": "10000"}, issuetype={"name": "bug"})
    assert response.status_code == 201
    assert (
        client.get(f"{API}/issue/{response.json()['key']}").json()["fields"]["issuetype"]["name"]
        == "Bug"
    )


def test_readonly_user_gets_403_on_create(readonly: httpx2.Client, sandbox: JiraSandbox) -> None:
    response = readonly.post(
        f"{API}/issue",
        json={"fields": {"project": {"key": "SEC"}, "issuetype": {"id": "10001"}, "summary": "x"}},
    )
    assert response.status_code == 403
    assert response.json()["errorMessages"] == [
        "You do not have permission to create issues in this project."
    ]
    assert sandbox.issues() == []


def test_body_is_validated_against_the_openapi_operation(client: httpx2.Client) -> None:
    not_object = client.post(f"{API}/issue", json={"fields": "summary"})
    assert not_object.status_code == 400
    [message] = not_object.json()["errorMessages"]
    assert "body.fields: 'summary' is not of type 'object'" in message

    bad_property = client.post(
        f"{API}/issue", json={"fields": {}, "properties": [{"key": 7, "value": 1}]}
    )
    assert bad_property.status_code == 400
    assert "body.properties[0].key" in bad_property.json()["errorMessages"][0]

    not_json = client.post(
        f"{API}/issue", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    assert not_json.json()["errorMessages"][0].startswith("Invalid JSON")

    wrong_type = client.post(f"{API}/issue", content=b"{}", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415


def test_update_operations_work_like_fields(create: Create, client: httpx2.Client) -> None:
    body = {
        "fields": {"project": {"key": "SEC"}, "issuetype": {"id": "10001"}, "summary": "s"},
        "update": {"labels": [{"add": "one"}, {"add": "two"}]},
    }
    response = client.post(f"{API}/issue", json=body)
    assert response.status_code == 201
    assert client.get(f"{API}/issue/SEC-1").json()["fields"]["labels"] == ["one", "two"]
    body["update"] = {"summary": [{"set": "again"}]}
    errors = field_errors(client.post(f"{API}/issue", json=body))
    assert "summary" in errors


def test_create_with_transition_starts_in_that_status(client: httpx2.Client) -> None:
    body = {
        "fields": {"project": {"key": "SEC"}, "issuetype": {"id": "10001"}, "summary": "s"},
        "transition": {"id": "21"},
    }
    assert client.post(f"{API}/issue", json=body).status_code == 201
    assert client.get(f"{API}/issue/SEC-1").json()["fields"]["status"]["name"] == "In Progress"
    body["transition"] = {"id": "99"}
    assert client.post(f"{API}/issue", json=body).status_code == 400


def test_get_issue_narrows_fields_and_returns_properties(
    create: Create, client: httpx2.Client
) -> None:
    create(labels=["x"], properties=[{"key": "k1", "value": 1}, {"key": "k2", "value": [2]}])
    issue = client.get(
        f"{API}/issue/SEC-1", params={"fields": "summary,labels", "properties": "k2"}
    ).json()
    assert set(issue["fields"]) == {"summary", "labels"}
    assert issue["properties"] == {"k2": [2]}
    everything = client.get(f"{API}/issue/SEC-1", params={"fields": "*all,-comment"}).json()
    assert "comment" not in everything["fields"]
    assert everything["fields"]["assignee"] is None  # unset fields are null, as on Cloud


def test_issue_properties_put_creates_then_updates(create: Create, client: httpx2.Client) -> None:
    create()
    url = f"{API}/issue/SEC-1/properties/sentineliq.alert"
    assert client.get(url).status_code == 404
    assert client.put(url, json={"fingerprint": "a"}).status_code == 201
    assert client.put(url, json={"fingerprint": "b"}).status_code == 200
    assert client.get(url).json() == {"key": "sentineliq.alert", "value": {"fingerprint": "b"}}
    assert [k["key"] for k in client.get(f"{API}/issue/SEC-1/properties").json()["keys"]] == [
        "sentineliq.alert"
    ]
    too_big = client.put(url, json={"blob": "x" * 40_000})
    assert too_big.status_code == 400
    assert client.put(f"{API}/issue/SEC-9/properties/k", json=1).status_code == 404


def test_comments_take_adf_and_are_listed(create: Create, client: httpx2.Client) -> None:
    create()
    url = f"{API}/issue/SEC-1/comment"
    added = client.post(url, json={"body": adf(para("Duplicate alert seen again."))})
    assert added.status_code == 201
    assert added.json()["author"]["emailAddress"] == ADMIN_EMAIL
    assert client.post(url, json={"body": "plain"}).status_code == 400
    too_long = client.post(url, json={"body": _doc_of_serialized_length(32_768)})
    assert too_long.status_code == 400
    assert set(too_long.json()["errors"]) == {"comment"}
    listing = client.get(url).json()
    assert listing["total"] == 1
    assert listing["comments"][0]["body"] == adf(para("Duplicate alert seen again."))


def test_transitions_move_between_statuses(create: Create, client: httpx2.Client) -> None:
    create()
    url = f"{API}/issue/SEC-1/transitions"
    names = [t["to"]["name"] for t in client.get(url).json()["transitions"]]
    assert names == ["In Progress", "Done"]
    assert client.post(url, json={"transition": {"id": "31"}}).status_code == 204
    fields = client.get(f"{API}/issue/SEC-1").json()["fields"]
    assert fields["status"]["name"] == "Done"
    assert fields["resolution"]["name"] == "Done"
    reopened = client.post(
        url,
        json={
            "transition": {"id": "11"},
            "update": {"comment": [{"add": {"body": adf(para("Reopened: seen again."))}}]},
        },
    )
    assert reopened.status_code == 204
    fields = client.get(f"{API}/issue/SEC-1").json()["fields"]
    assert (fields["status"]["name"], fields["resolution"]) == ("To Do", None)
    assert fields["comment"]["total"] == 1
    assert client.post(url, json={"transition": {"id": "77"}}).status_code == 400
    assert client.post(url, json={}).status_code == 400


def test_readonly_user_cannot_write_to_issues(create: Create, readonly: httpx2.Client) -> None:
    create()
    assert readonly.get(f"{API}/issue/SEC-1").status_code == 200
    assert readonly.put(f"{API}/issue/SEC-1/properties/k", json=1).status_code == 403
    assert (
        readonly.post(f"{API}/issue/SEC-1/comment", json={"body": adf(para("x"))}).status_code
        == 403
    )
    assert (
        readonly.post(
            f"{API}/issue/SEC-1/transitions", json={"transition": {"id": "31"}}
        ).status_code
        == 403
    )
