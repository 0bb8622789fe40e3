"""POST /api/v1/workspaces/{ws}/alerts/{id}/resolve | dismiss | reopen: who may, what is queued,
the audit actor, refusals as problems naming `reason`, and the Jira issue moved by a worker."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from sentineliq.delivery.worker import Worker
from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.services.alerttriage import TriageAction, triage
from sentineliq.services.context import AppContext
from sentineliq.services.identity import Role
from sentineliq.services.providers import configure
from sentineliq.storage.alertstate import AlertStateRepository
from sentineliq.storage.audit import AuditRepository
from sentineliq.storage.deliveries import DeliveryRepository, DeliveryStatus
from sentineliq.storage.errors import InvalidStateError
from sentineliq.web.app import create_app

PROBLEM = "application/problem+json"
ALERT = {
    "title": "Credential dumping on host-7",
    "severity": "high",
    "source": "EDR",
    "detected_at": "2026-11-27T08:00:00Z",
}


@dataclass
class Api:
    app: AppContext
    client: TestClient
    sandbox: JiraSandbox
    workspace_id: str
    other_id: str
    headers: dict[str, dict[str, str]]

    def ingest(self, title: str = ALERT["title"], workspace: str | None = None) -> str:
        ws = workspace or self.workspace_id
        who = "api_key" if ws == self.workspace_id else "other_key"
        answer = self.client.post(
            f"/api/v1/workspaces/{ws}/alerts",
            json={**ALERT, "title": title},
            headers=self.headers[who],
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["results"][0]["alert_id"])

    def act(self, who: str, alert_id: str, action: str, body: Any = None) -> Any:
        return self.client.post(
            f"/api/v1/workspaces/{self.workspace_id}/alerts/{alert_id}/{action}",
            json={"reason": "false positive: the weekly scan"} if body is None else body,
            headers=self.headers[who],
        )

    def work(self) -> None:
        Worker(self.app, batch_size=20).run(until_idle=True, poll_interval=0.05)

    def issue(self, alert_id: str) -> dict[str, Any]:
        (view,) = [
            v
            for v in DeliveryRepository(self.app.db).list_for_workspace(
                self.workspace_id, alert_id=alert_id
            )
            if v.issue_key
        ][:1]
        return next(i for i in self.sandbox.issues() if i["key"] == view.issue_key)


@pytest.fixture
def api(
    app_context: AppContext,
    people: Any,
    jira_sandbox: JiraSandbox,
    jira_settings: Callable[..., dict[str, Any]],
) -> Iterator[Api]:
    ws = people.workspace("SOC")
    other = people.workspace("Other")
    configure(app_context, ws.id, "jira", jira_settings(), actor="test")
    headers = {
        "owner": people.user("owner@soc.test", {ws.id: Role.OWNER}).headers,
        "member": people.user("member@soc.test", {ws.id: Role.MEMBER}).headers,
        "outsider": people.user("owner@other.test", {other.id: Role.OWNER}).headers,
        "api_key": {"Authorization": f"Bearer {people.api_key(ws.id, 'siem')}"},
        "other_key": {"Authorization": f"Bearer {people.api_key(other.id, 'other')}"},
        "anonymous": {},
    }
    with TestClient(create_app(app_context)) as client:
        yield Api(app_context, client, jira_sandbox, ws.id, other.id, headers)


def test_resolving_queues_one_transition_and_moves_the_issue_once(api: Api) -> None:
    alert_id = api.ingest()
    api.work()
    answer = api.act("member", alert_id, "resolve", {"reason": "  scheduled scan, not an attack "})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["previous_status"], body["status"]) == ("new", "resolved")
    assert body["actor"] == "member@soc.test"
    (queued,) = body["transitions"]
    assert queued["provider"] == "jira"
    delivery = DeliveryRepository(api.app.db).get(queued["delivery_id"])
    assert delivery is not None
    assert delivery.alert_id == alert_id

    api.work()
    issue = api.issue(alert_id)
    assert issue["fields"]["status"]["statusCategory"]["key"] == "done"
    assert issue["fields"]["resolution"]["name"] == "Done"
    moves = [
        r
        for r in api.sandbox.requests()
        if r.method == "POST" and r.path.endswith(f"/issue/{issue['key']}/transitions")
    ]
    assert len(moves) == 1
    # Once resolved, resolving again is a conflict and queues nothing more.
    again = api.act("owner", alert_id, "resolve")
    assert again.status_code == 409
    assert again.headers["content-type"] == PROBLEM
    assert "already resolved" in again.json()["detail"]
    assert len(DeliveryRepository(api.app.db).list_for_workspace(api.workspace_id)) == 2


def test_the_actor_is_the_key_name_or_the_users_email_in_state_and_audit(api: Api) -> None:
    by_key, by_owner = api.ingest("one"), api.ingest("two")
    assert api.act("api_key", by_key, "dismiss").json()["actor"] == "api_key:siem"
    assert api.act("owner", by_owner, "resolve").status_code == 200
    states = AlertStateRepository(api.app.db)
    assert states.state(by_key).status == "dismissed"
    assert states.state(by_key).status_changed_by == "api_key:siem"
    assert states.state(by_owner).status_changed_by == "owner@soc.test"
    changes = [
        (e.actor, e.target, e.details["to"], e.details["reason"], e.details["origin"])
        for e in AuditRepository(api.app.db).list(api.workspace_id)
        if e.action == "alert.status_changed"
    ]
    reason = "false positive: the weekly scan"
    assert sorted(changes) == [
        ("api_key:siem", f"alert:{by_key}", "dismissed", reason, "user"),
        ("owner@soc.test", f"alert:{by_owner}", "resolved", reason, "user"),
    ]


def test_reopen_sets_new_and_sends_nothing_to_the_ticket(api: Api) -> None:
    alert_id = api.ingest()
    assert api.act("member", alert_id, "reopen").status_code == 409  # new already
    assert api.act("member", alert_id, "dismiss").status_code == 200
    answer = api.act("member", alert_id, "reopen")
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["transitions"]) == ("new", [])
    operations = [v.id for v in DeliveryRepository(api.app.db).list_for_workspace(api.workspace_id)]
    assert len(operations) == 2  # the create and the dismiss's transition, nothing for reopen


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body.reason"),
        ({"reason": "   "}, "body.reason"),
        ({"reason": "x" * 2001}, "body.reason"),
        ({"reason": 7}, "body.reason"),
        ({"reason": "ok", "status": "resolved"}, "body.status"),
    ],
)
def test_bad_reason_is_a_problem_naming_it_and_changes_nothing(
    api: Api, body: Any, field: str
) -> None:
    alert_id = api.ingest()
    answer = api.act("owner", alert_id, "resolve", body)
    assert answer.status_code == 422
    assert answer.headers["content-type"] == PROBLEM
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    if body.get("reason") == "   ":
        assert answer.json()["errors"][0]["message"].startswith("must not be blank")
    assert AlertStateRepository(api.app.db).state(alert_id).status == "new"


def test_a_reason_of_2000_characters_is_taken_and_stored_trimmed(api: Api) -> None:
    alert_id = api.ingest()
    answer = api.act("owner", alert_id, "resolve", {"reason": f" {'x' * 1998} "})
    assert answer.status_code == 200, answer.text
    (entry,) = [
        e
        for e in AuditRepository(api.app.db).list(api.workspace_id)
        if e.action == "alert.status_changed"
    ]
    assert entry.details["reason"] == "x" * 1998


def test_other_workspaces_alerts_and_strangers_are_refused(api: Api) -> None:
    mine = api.ingest()
    theirs = api.ingest(workspace=api.other_id)
    assert api.act("owner", theirs, "resolve").status_code == 404  # through my workspace's path
    assert api.act("api_key", theirs, "dismiss").status_code == 404
    assert api.act("outsider", mine, "resolve").status_code == 404  # my workspace, not theirs
    assert api.act("anonymous", mine, "resolve").status_code == 401
    session_without_csrf = {"Cookie": api.headers["member"]["Cookie"]}
    answer = api.client.post(
        f"/api/v1/workspaces/{api.workspace_id}/alerts/{mine}/resolve",
        json={"reason": "x"},
        headers=session_without_csrf,
    )
    assert answer.status_code == 403
    assert AlertStateRepository(api.app.db).state(mine).status == "new"
    assert AlertStateRepository(api.app.db).state(theirs).status == "new"


def test_no_offered_transition_dead_letters_naming_configured_and_offered(
    api: Api, jira_settings: Callable[..., dict[str, Any]]
) -> None:
    configure(
        api.app,
        api.workspace_id,
        "jira",
        jira_settings(lifecycle={"resolve_transitions": ["Ship It"]}),
        actor="test",
    )
    alert_id = api.ingest()
    api.work()
    (queued,) = api.act("owner", alert_id, "resolve").json()["transitions"]
    api.work()
    delivery = DeliveryRepository(api.app.db).get(queued["delivery_id"])
    assert delivery is not None
    assert delivery.status is DeliveryStatus.DEAD
    assert "'Ship It'" in (delivery.last_error or "")
    assert "Jira offers:" in (delivery.last_error or "")
    assert api.issue(alert_id)["fields"]["status"]["statusCategory"]["key"] != "done"


def test_the_openapi_document_describes_the_operations(api: Api) -> None:
    paths = api.client.get("/api/v1/openapi.json").json()["paths"]
    for action in ("resolve", "dismiss", "reopen"):
        operation = paths[f"/api/v1/workspaces/{{workspace_id}}/alerts/{{alert_id}}/{action}"][
            "post"
        ]
        assert {"200", "404", "409", "422"} <= set(operation["responses"])
        assert operation["requestBody"]["required"] is True


def test_two_people_resolving_at_once_queue_one_transition(api: Api) -> None:
    alert_id = api.ingest()
    api.work()
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def resolve(actor: str) -> None:
        start.wait()
        try:
            triage(
                api.app, api.workspace_id, alert_id, TriageAction.RESOLVE, actor=actor, reason="x"
            )
        except InvalidStateError:
            outcomes.append("conflict")
        else:
            outcomes.append("resolved")

    threads = [threading.Thread(target=resolve, args=(who,)) for who in ("ana", "bo")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "resolved"]
    assert len(DeliveryRepository(api.app.db).list_for_workspace(api.workspace_id)) == 2
