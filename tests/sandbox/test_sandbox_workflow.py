"""The sandbox's workflows over real HTTP: resolutions, classic and localized workflows, the edit
call and the analyst account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from sentineliq.sandbox.jira import ANALYST_EMAIL, ANALYST_TOKEN, JiraSandbox, ManualClock
from sentineliq.sandbox.jira.api import JiraApi
from sentineliq.sandbox.jira.state import SandboxState

API = "/rest/api/3"
Create = Callable[..., httpx2.Response]
ADF = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": []}]}


def _doc(text: str) -> dict[str, Any]:
    para = {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    return {"type": "doc", "version": 1, "content": [para]}


def _state(client: httpx2.Client, key: str = "SEC-1", fields: str = "") -> dict[str, Any]:
    params = {"fields": fields} if fields else None
    answer = client.get(f"{API}/issue/{key}", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["fields"]  # type: ignore[no-any-return]


def _offered(client: httpx2.Client, key: str = "SEC-1") -> list[tuple[str, str]]:
    body = client.get(f"{API}/issue/{key}/transitions").json()
    return [(t["id"], t["name"]) for t in body["transitions"]]


def _move(client: httpx2.Client, tid: str, **body: Any) -> httpx2.Response:
    return client.post(f"{API}/issue/SEC-1/transitions", json={"transition": {"id": tid}, **body})


def test_resolutions_are_listed_in_the_openapi_shape(client: httpx2.Client) -> None:
    answer = client.get(f"{API}/resolution")
    assert answer.status_code == 200
    names = {r["id"]: r["name"] for r in answer.json()}
    assert names == {
        "10000": "Done",
        "10001": "Won't Do",
        "10002": "Won't Fix",
        "10003": "Duplicate",
        "10004": "Declined",
        "10005": "Cannot Reproduce",
    }
    assert set(answer.json()[0]) == {"self", "id", "name", "description"}


def test_done_transition_sets_the_given_resolution_and_leaving_done_clears_it(
    create: Create, client: httpx2.Client, sandbox: JiraSandbox, clock: ManualClock
) -> None:
    create()
    before = _state(client)["updated"]
    assert _move(client, "31", fields={"resolution": {"name": "won't fix"}}).status_code == 204
    fields = _state(client, fields="status,resolution,resolutiondate,updated")
    assert set(fields) == {"status", "resolution", "resolutiondate", "updated"}
    assert fields["resolution"]["name"] == "Won't Fix"
    assert fields["resolution"]["id"] == "10002"
    assert fields["resolutiondate"] is not None
    assert fields["status"]["statusCategory"]["key"] == "done"
    assert fields["updated"] >= before

    assert _move(client, "11").status_code == 204
    fields = _state(client)
    assert fields["resolution"] is None
    assert fields["resolutiondate"] is None

    assert _move(client, "31", fields={"resolution": {"id": "10003"}}).status_code == 204
    assert _state(client)["resolution"]["name"] == "Duplicate"


def test_done_without_a_resolution_is_done(create: Create, client: httpx2.Client) -> None:
    create()
    assert _move(client, "31").status_code == 204
    assert _state(client)["resolution"]["name"] == "Done"


def test_unknown_resolution_and_resolution_outside_done_are_refused(
    create: Create, client: httpx2.Client
) -> None:
    create()
    refused = _move(client, "31", fields={"resolution": {"name": "Fixed"}})
    assert refused.status_code == 400
    assert "Fixed" in refused.json()["errors"]["resolution"]
    refused = _move(client, "21", fields={"resolution": {"name": "Done"}})
    assert refused.status_code == 400
    assert "resolution" in refused.json()["errors"]
    assert _state(client)["status"]["name"] == "To Do"  # nothing moved


def test_transition_adds_its_comment_in_the_same_request(
    create: Create, client: httpx2.Client
) -> None:
    create()
    update = {"comment": [{"add": {"body": _doc("closing: false positive")}}]}
    assert _move(client, "31", update=update).status_code == 204
    comments = client.get(f"{API}/issue/SEC-1/comment").json()["comments"]
    assert [c["body"] for c in comments] == [_doc("closing: false positive")]
    bad = _move(client, "11", update={"comment": [{"add": {"body": {"type": "doc"}}}]})
    assert bad.status_code == 400
    assert "comment" in bad.json()["errors"]
    assert _state(client)["status"]["name"] == "Done"  # a refused comment moves nothing


def test_classic_workflow_offers_only_transitions_from_the_current_status(
    create: Create, client: httpx2.Client, sandbox: JiraSandbox
) -> None:
    sandbox.set_workflow("classic")
    create()
    assert _offered(client) == [
        ("4", "Start Progress"),
        ("5", "Resolve Issue"),
        ("2", "Close Issue"),
    ]
    # The simple workflow's ids are not valid here, as on Cloud.
    refused = _move(client, "31")
    assert refused.status_code == 400
    assert refused.json()["errorMessages"] == ["Transition id '31' is not valid for this issue."]
    assert _move(client, "4").status_code == 204
    assert _offered(client) == [("5", "Resolve Issue"), ("301", "Stop Progress")]
    assert _move(client, "5", fields={"resolution": {"name": "Won't Do"}}).status_code == 204
    assert _offered(client) == [("3", "Reopen Issue")]
    assert _move(client, "5").status_code == 400  # Resolve is no longer offered from Done
    assert _move(client, "3").status_code == 204
    fields = _state(client)
    assert (fields["status"]["name"], fields["resolution"]) == ("To Do", None)
    assert (
        client.get(f"{API}/issue/SEC-1/transitions").json()["transitions"][0]["isGlobal"] is False
    )


def test_localized_names_keep_ids_and_categories(
    create: Create, client: httpx2.Client, sandbox: JiraSandbox, anon: httpx2.Client
) -> None:
    create()
    assert _move(client, "31").status_code == 204
    # Over the control API, as a worker process's test would switch it.
    assert anon.post("/_sandbox/workflow", json={"name": "classic"}).status_code == 200
    assert anon.post("/_sandbox/localize", json={"locale": "de"}).status_code == 200
    status = _state(client)["status"]
    assert (status["id"], status["name"], status["statusCategory"]["key"]) == (
        "10001",
        "Erledigt",
        "done",
    )
    assert _offered(client) == [("3", "Erneut öffnen")]
    assert _move(client, "3").status_code == 204
    assert _state(client)["status"]["name"] == "Zu erledigen"
    create()  # new issues start in the localized initial status
    assert _state(client, "SEC-2")["status"]["name"] == "Zu erledigen"
    sandbox.localize("en", transition_names={"4": "Begin"})
    assert _offered(client)[0] == ("4", "Begin")
    assert anon.post("/_sandbox/localize", json={"locale": "xx"}).status_code == 400
    assert anon.post("/_sandbox/workflow", json={"name": "kanban"}).status_code == 400
    sandbox.reset()
    create()
    assert _offered(client) == [("21", "In Progress"), ("31", "Done")]


def test_edit_sets_priority_and_labels_and_bumps_updated(
    create: Create, client: httpx2.Client, sandbox: JiraSandbox
) -> None:
    create(labels=["vpn"])
    before = _state(client)["updated"]
    answer = client.put(
        f"{API}/issue/SEC-1",
        json={
            "fields": {"priority": {"name": "Highest"}},
            "update": {"labels": [{"add": "repeat"}, {"remove": "vpn"}]},
        },
    )
    assert answer.status_code == 204, answer.text
    fields = _state(client, fields="priority,labels,updated")
    assert fields["priority"]["name"] == "Highest"
    assert fields["labels"] == ["repeat"]
    assert fields["updated"] >= before
    assert sandbox.notifications() == [("SEC-1", "issue_updated")]


def test_edit_refusals_name_the_field(create: Create, client: httpx2.Client) -> None:
    create()
    url = f"{API}/issue/SEC-1"
    refused = client.put(url, json={"fields": {"priority": {"name": "Urgent"}}})
    assert refused.status_code == 400
    assert set(refused.json()["errors"]) == {"priority"}
    refused = client.put(url, json={"fields": {"status": {"id": "3"}, "summary": ""}})
    assert set(refused.json()["errors"]) == {"status", "summary"}
    refused = client.put(url, json={"update": {"priority": [{"add": {"name": "High"}}]}})
    assert refused.status_code == 400
    assert "priority" in refused.json()["errors"]
    # The OpenAPI schema is checked first: `update` holds lists of operations.
    assert client.put(url, json={"update": {"labels": {"add": "x"}}}).status_code == 400
    assert client.put(f"{API}/issue/SEC-9", json={"fields": {"labels": []}}).status_code == 404
    assert _state(client)["priority"]["name"] == "Medium"


def test_notify_users_false_is_ignored_without_project_admin(
    create: Create,
    client: httpx2.Client,
    make_client: Callable[..., httpx2.Client],
    sandbox: JiraSandbox,
) -> None:
    create()
    body = {"fields": {"labels": ["quiet"]}}
    analyst = make_client(auth=(ANALYST_EMAIL, ANALYST_TOKEN))
    # Cloud: "If the user doesn't have the necessary permission the request is ignored."
    ignored = analyst.put(f"{API}/issue/SEC-1", params={"notifyUsers": "false"}, json=body)
    assert ignored.status_code == 204
    assert sandbox.notifications() == [("SEC-1", "issue_updated")]
    answer = client.put(f"{API}/issue/SEC-1", params={"notifyUsers": "false"}, json=body)
    assert answer.status_code == 204
    assert sandbox.notifications() == [("SEC-1", "issue_updated")]


def test_the_analyst_transitions_and_comments_as_a_person(
    create: Create, make_client: Callable[..., httpx2.Client]
) -> None:
    create()
    analyst = make_client(auth=(ANALYST_EMAIL, ANALYST_TOKEN))
    assert analyst.get(f"{API}/myself").json()["displayName"] == "Alex Analyst"
    update = {"comment": [{"add": {"body": _doc("benign")}}]}
    assert _move(analyst, "31", update=update).status_code == 204
    comment = analyst.get(f"{API}/issue/SEC-1/comment").json()["comments"][0]
    assert comment["author"]["emailAddress"] == ANALYST_EMAIL


def test_readonly_cannot_transition_or_edit(create: Create, readonly: httpx2.Client) -> None:
    create()
    assert _move(readonly, "31").status_code == 403
    assert readonly.put(f"{API}/issue/SEC-1", json={"fields": {"labels": []}}).status_code == 403


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"{API}/issue/{{issueIdOrKey}}/transitions"),
        ("PUT", f"{API}/issue/{{issueIdOrKey}}"),
    ],
)
def test_workflow_routes_validate_bodies_against_the_openapi(method: str, path: str) -> None:
    routes = JiraApi(SandboxState(ManualClock())).routes()
    (route,) = [r for r in routes if r.method == method and r.template == path]
    assert route.validate_body
