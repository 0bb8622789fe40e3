"""Webhooks the sandbox sends (as Jira Cloud does for admin-registered, secret-signed ones), and
the created/updated date clauses of its JQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2
import pytest

from sentineliq.sandbox.jira import JiraSandbox

API = "/rest/api/3"
SECRET = "It's a Secret to Everybody"
Create = Callable[..., httpx2.Response]


class Receiver:
    """A real HTTP endpoint that records what it gets; answers `fail_first` 503s first."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                failing = len(receiver.received) <= receiver.fail_first
                self.send_response(503 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _h, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.close()


def test_a_transition_sends_a_signed_issue_updated_with_its_changelog(
    sandbox: JiraSandbox, client: httpx2.Client, create: Create, receiver: Receiver
) -> None:
    sandbox.add_webhook(receiver.url, SECRET, ["jira:issue_updated"])
    key = create().json()["key"]
    answer = client.post(f"{API}/issue/{key}/transitions", json={"transition": {"id": "31"}})
    assert answer.status_code == 204
    sandbox.wait_for_webhooks(10)

    [(headers, body)] = receiver.received
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-hub-signature"] == expected
    assert headers["x-atlassian-webhook-identifier"]
    assert "x-atlassian-webhook-retry" not in headers
    event = json.loads(body)
    assert event["webhookEvent"] == "jira:issue_updated"
    assert isinstance(event["timestamp"], int)
    assert event["user"]["displayName"] == "Sandbox Admin"
    fields = event["issue"]["fields"]
    assert fields["status"]["statusCategory"]["key"] == "done"
    assert fields["resolution"]["name"] == "Done"
    assert fields["resolutiondate"]
    items = {i["field"]: i for i in event["changelog"]["items"]}
    assert (items["status"]["fromString"], items["status"]["toString"]) == ("To Do", "Done")
    assert items["resolution"]["toString"] == "Done"
    assert [d.status for d in sandbox.webhook_deliveries()] == [204]


def test_a_comment_sends_comment_created_and_creation_its_own_event(
    sandbox: JiraSandbox, client: httpx2.Client, create: Create, receiver: Receiver
) -> None:
    sandbox.add_webhook(receiver.url, SECRET)
    key = create().json()["key"]
    doc = {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hi"}]}],
    }
    assert client.post(f"{API}/issue/{key}/comment", json={"body": doc}).status_code == 201
    sandbox.wait_for_webhooks(10)
    events = receiver.events()
    assert [e["webhookEvent"] for e in events] == [
        "jira:issue_created",
        "comment_created",
        "jira:issue_updated",
    ]
    comment = events[1]["comment"]
    assert comment["body"] == doc
    assert comment["author"]["displayName"] == "Sandbox Admin"
    assert events[2]["issue_event_type_name"] == "issue_commented"
    identifiers = [h["x-atlassian-webhook-identifier"] for h, _b in receiver.received]
    assert len(set(identifiers)) == 3


def test_failed_deliveries_are_retried_with_the_same_identifier(
    sandbox: JiraSandbox, create: Create
) -> None:
    failing = Receiver(fail_first=2)
    try:
        sandbox.add_webhook(
            failing.url, SECRET, ["jira:issue_created"], retry_delays=(0.01, 0.01, 0.01)
        )
        create()
        sandbox.wait_for_webhooks(10)
    finally:
        failing.close()
    assert [d.status for d in sandbox.webhook_deliveries()] == [503, 503, 204]
    assert [h.get("x-atlassian-webhook-retry") for h, _b in failing.received] == [None, "1", "2"]
    assert len({h["x-atlassian-webhook-identifier"] for h, _b in failing.received}) == 1
    assert len({b for _h, b in failing.received}) == 1


def test_replay_resends_the_same_bytes_and_headers(
    sandbox: JiraSandbox, create: Create, receiver: Receiver
) -> None:
    sandbox.add_webhook(receiver.url, SECRET, ["jira:issue_created"])
    create()
    sandbox.wait_for_webhooks(10)
    [first] = sandbox.webhook_deliveries()
    sandbox.replay_webhook(first.identifier)
    sandbox.wait_for_webhooks(10)
    (h1, b1), (h2, b2) = receiver.received
    assert b1 == b2
    assert h1["x-hub-signature"] == h2["x-hub-signature"]
    assert h1["x-atlassian-webhook-identifier"] == h2["x-atlassian-webhook-identifier"]


def test_the_control_api_registers_lists_and_switches_webhooks(
    sandbox: JiraSandbox, anon: httpx2.Client, create: Create, receiver: Receiver
) -> None:
    made = anon.post(
        "/_sandbox/webhooks",
        json={"url": receiver.url, "secret": SECRET, "events": ["jira:issue_created"]},
    )
    assert made.status_code == 201
    assert (
        anon.post("/_sandbox/webhooks", json={"url": receiver.url, "events": ["nope"]}).status_code
        == 400
    )
    assert anon.post("/_sandbox/webhooks/enabled", json={"enabled": False}).status_code == 200
    create()
    assert anon.post("/_sandbox/webhooks/wait", json={"timeout": 5}).status_code == 200
    assert anon.get("/_sandbox/webhooks/deliveries").json() == []
    anon.post("/_sandbox/webhooks/enabled", json={"enabled": True})
    create()
    assert anon.post("/_sandbox/webhooks/wait", json={"timeout": 5}).status_code == 200
    [delivery] = anon.get("/_sandbox/webhooks/deliveries").json()
    assert (delivery["event"], delivery["status"]) == ("jira:issue_created", 204)


def _keys(client: httpx2.Client, query: str) -> list[str]:
    answer = client.post(f"{API}/search/jql", json={"jql": query, "fields": ["key"]})
    assert answer.status_code == 200, answer.text
    return [i["key"] for i in answer.json()["issues"]]


def test_jql_updated_and_created_comparisons(client: httpx2.Client, create: Create) -> None:
    first, second = create().json()["key"], create().json()["key"]
    assert (
        client.post(
            f"{API}/issue/{first}/transitions", json={"transition": {"id": "31"}}
        ).status_code
        == 204
    )
    now = datetime.now(UTC)
    later = (now + timedelta(minutes=2)).strftime("%Y/%m/%d %H:%M")
    assert _keys(client, 'project = SEC AND updated >= "-15m" ORDER BY updated ASC') == [
        second,
        first,
    ]
    assert _keys(client, "project = SEC AND updated >= -2h ORDER BY key") == [first, second]
    assert _keys(client, f'project = SEC AND updated > "{later}"') == []
    assert len(_keys(client, f'project = SEC AND created < "{later}"')) == 2
    tomorrow = (now + timedelta(days=1)).strftime("%Y-%m-%d")
    assert len(_keys(client, f'project = SEC AND created <= "{tomorrow}"')) == 2
    assert _keys(client, 'project = SEC AND updated <= "-1d"') == []
    bad = client.post(f"{API}/search/jql", json={"jql": 'project = SEC AND updated >= "soon"'})
    assert bad.status_code == 400
    assert "Date value 'soon'" in bad.json()["errorMessages"][0]
    unsupported = client.post(f"{API}/search/jql", json={"jql": "project = SEC AND updated in (x)"})
    assert unsupported.status_code == 400
