"""JiraProvider's lifecycle calls against the sandbox over HTTP: issue state (cached briefly),
transitions by configured names (cached per status, refreshed when stale), priority edits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import jsonschema
import pytest
from jira_samples import (
    ADMIN_EMAIL,
    ADMIN_TOKEN,
    ANALYST_EMAIL,
    READONLY_EMAIL,
    READONLY_TOKEN,
    RecordingTransport,
)
from openapi_schema_validator import OAS30Validator

from sentineliq.document.schema import adf_schema
from sentineliq.providers.base import ErrorKind, ProviderError, StatusCategory
from sentineliq.providers.jira.metadata import MetadataCache
from sentineliq.providers.jira.provider import JiraProvider
from sentineliq.sandbox.jira import ANALYST_TOKEN
from sentineliq.sandbox.jira.openapi import load_spec

Make = Callable[..., JiraProvider]
API = "/rest/api/3"
COMMENT = {
    "type": "doc",
    "version": 1,
    "content": [{"type": "paragraph", "content": [{"type": "text", "text": "resolved in SIQ"}]}],
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cache(clock: FakeClock) -> MetadataCache:
    # Overrides the provider conftest's cache: the state and transitions caches share its clock.
    return MetadataCache(clock=clock)


@pytest.fixture
def jira(sandbox: Any) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=sandbox.url, auth=(ADMIN_EMAIL, ADMIN_TOKEN)) as c:
        yield c


@pytest.fixture
def analyst(sandbox: Any) -> Iterator[httpx2.Client]:
    """A person moving issues in Jira's UI, not the integration account."""
    with httpx2.Client(base_url=sandbox.url, auth=(ANALYST_EMAIL, ANALYST_TOKEN)) as c:
        yield c


def new_issue(jira: httpx2.Client) -> str:
    fields = {"project": {"key": "SEC"}, "issuetype": {"id": "10001"}, "summary": "Beaconing"}
    answer = jira.post(f"{API}/issue", json={"fields": fields})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["key"])


def move(client: httpx2.Client, key: str, transition_id: str) -> None:
    answer = client.post(
        f"{API}/issue/{key}/transitions", json={"transition": {"id": transition_id}}
    )
    assert answer.status_code == 204, answer.text


def count(sandbox: Any, method: str, suffix: str = "") -> int:
    return sum(
        1
        for r in sandbox.requests()
        if r.method == method and r.path.startswith(f"{API}/issue/") and r.path.endswith(suffix)
    )


def test_issue_state_reads_status_category_resolution_and_priority(
    make_provider: Make, jira: httpx2.Client, analyst: httpx2.Client
) -> None:
    key = new_issue(jira)
    state = make_provider().issue_state(key)
    assert (state.key, state.status, state.status_category) == (key, "To Do", StatusCategory.NEW)
    assert (state.resolution, state.resolved_at, state.priority) == (None, None, "Medium")
    assert state.updated_at is not None
    move(analyst, key, "31")
    done = make_provider().issue_state(key.lower())
    assert done.done
    assert done.resolution == "Done"
    assert done.resolved_at is not None


def test_issue_state_is_cached_until_max_age(
    make_provider: Make, jira: httpx2.Client, analyst: httpx2.Client, sandbox: Any, clock: FakeClock
) -> None:
    key = new_issue(jira)
    provider = make_provider()
    assert not provider.issue_state(key).done
    move(analyst, key, "31")
    clock.now += 29
    assert not provider.issue_state(key).done  # still the cached read
    assert count(sandbox, "GET", key) == 1
    clock.now += 2
    assert provider.issue_state(key).done  # 31 s old: read again
    move(analyst, key, "11")
    assert provider.issue_state(key).done
    assert not provider.issue_state(key, max_age_s=0).done  # 0: always read
    assert count(sandbox, "GET", key) == 3


def test_transition_by_name_sets_resolution_and_comment_in_one_request(
    make_provider: Make, jira: httpx2.Client, sandbox: Any
) -> None:
    key = new_issue(jira)
    provider = make_provider()
    provider.issue_state(key)  # cached open; the transition must not return this stale read
    sent: list[int] = []
    state = provider.transition(
        key,
        ["Resolve Issue", "  done "],
        resolution="Won't Fix",
        comment=COMMENT,
        before_send=lambda: sent.append(count(sandbox, "POST", "/transitions")),
    )
    assert sent == [0]  # ran right before the POST left
    assert (state.status, state.status_category, state.resolution) == (
        "Done",
        StatusCategory.DONE,
        "Won't Fix",
    )
    assert count(sandbox, "POST", "/transitions") == 1
    comments = jira.get(f"{API}/issue/{key}/comment").json()["comments"]
    assert [c["body"] for c in comments] == [COMMENT]
    # Reopening: a resolution is only sent into a done status, so this one is dropped.
    reopened = provider.transition(key, ["To Do"], resolution="Done")
    assert (reopened.status_category, reopened.resolution) == (StatusCategory.NEW, None)


def test_transitions_are_looked_up_once_per_status(
    make_provider: Make, jira: httpx2.Client, sandbox: Any
) -> None:
    first, second = new_issue(jira), new_issue(jira)
    provider = make_provider()
    provider.transition(first, ["Done"])
    provider.transition(second, ["Done"])  # same type, same status: the cached list
    assert count(sandbox, "GET", "/transitions") == 1
    assert count(sandbox, "POST", "/transitions") == 2
    provider.transition(first, ["To Do"])  # from Done: another status, another look-up
    assert count(sandbox, "GET", "/transitions") == 2
    # A new configuration version starts from an empty cache.
    make_provider(config_version=1).transition(second, ["To Do"])
    assert count(sandbox, "GET", "/transitions") == 3


def test_a_refused_transition_id_is_looked_up_again_once(
    make_provider: Make, jira: httpx2.Client, sandbox: Any
) -> None:
    first, second = new_issue(jira), new_issue(jira)
    provider = make_provider()
    provider.transition(first, ["Done", "Resolve Issue"])  # caches what To Do offers: 21, 31
    sandbox.set_workflow("classic")  # the admin changed the workflow: id 31 is gone
    state = provider.transition(second, ["Done", "Resolve Issue"])
    assert state.done
    posts = [
        r.status
        for r in sandbox.requests()
        if r.method == "POST" and r.path.endswith(second + "/transitions")
    ]
    assert posts == [400, 204]  # the stale id once, then the fresh list's Resolve Issue
    assert count(sandbox, "GET", "/transitions") == 2


def test_localized_workflow_works_when_the_configured_names_include_it(
    make_provider: Make, jira: httpx2.Client, sandbox: Any
) -> None:
    key = new_issue(jira)
    sandbox.set_workflow("classic")
    sandbox.localize("de")
    provider = make_provider()
    done = provider.transition(key, ["Resolve Issue", "Vorgang erledigen"], resolution="Duplicate")
    assert (done.status, done.status_category, done.resolution) == (
        "Erledigt",
        StatusCategory.DONE,
        "Duplicate",
    )
    reopened = provider.transition(key, ["Reopen Issue", "erneut ÖFFNEN"])
    assert (reopened.status, reopened.status_category) == ("Zu erledigen", StatusCategory.NEW)


def test_no_matching_transition_names_both_lists(
    make_provider: Make, jira: httpx2.Client, sandbox: Any
) -> None:
    key = new_issue(jira)
    sandbox.set_workflow("classic")
    with pytest.raises(ProviderError) as caught:
        make_provider().transition(key, ["Reopen Issue", "Reopen"])
    error = caught.value
    assert error.kind is ErrorKind.CONFIG
    for name in ("Reopen Issue", "Reopen", "Start Progress", "Resolve Issue", "Close Issue"):
        assert repr(name) in error.message
    assert "To Do" in error.message
    assert count(sandbox, "POST", "/transitions") == 0


def test_a_stale_cached_status_is_read_again_before_giving_up(
    make_provider: Make, jira: httpx2.Client, analyst: httpx2.Client, sandbox: Any
) -> None:
    key = new_issue(jira)
    provider = make_provider()
    assert not provider.issue_state(key).done
    move(analyst, key, "31")  # an analyst resolved it in Jira meanwhile
    reopened = provider.transition(key, ["To Do"])  # offered only from the real status
    assert reopened.status_category is StatusCategory.NEW


def test_set_priority_edits_and_invalidates_the_cached_state(
    make_provider: Make, jira: httpx2.Client, sandbox: Any
) -> None:
    key = new_issue(jira)
    provider = make_provider()
    assert provider.issue_state(key).priority == "Medium"
    provider.set_priority(key, "Highest")
    assert provider.issue_state(key).priority == "Highest"
    with pytest.raises(ProviderError) as caught:
        provider.set_priority(key, "Urgent")
    assert caught.value.kind is ErrorKind.VALIDATION
    assert set(caught.value.field_errors) == {"priority"}


def test_errors_are_classified(make_provider: Make, jira: httpx2.Client, sandbox: Any) -> None:
    provider = make_provider()
    for call in (
        lambda: provider.issue_state("SEC-404"),
        lambda: provider.transition("SEC-404", ["Done"]),
        lambda: provider.set_priority("SEC-404", "High"),
    ):
        with pytest.raises(ProviderError) as caught:
            call()
        assert caught.value.kind is ErrorKind.NOT_FOUND
    key = new_issue(jira)
    sandbox.set_fault("error", status=503, count=1, path=f"{API}/issue/{key}/transitions")
    with pytest.raises(ProviderError) as caught:
        provider.transition(key, ["Done"])
    assert caught.value.kind is ErrorKind.UNAVAILABLE


def test_permission_errors_name_what_the_call_needs(
    make_provider: Make, jira: httpx2.Client
) -> None:
    key = new_issue(jira)
    provider = make_provider(email=READONLY_EMAIL, api_token=READONLY_TOKEN)
    with pytest.raises(ProviderError) as caught:
        provider.transition(key, ["Done"])
    assert caught.value.kind is ErrorKind.PERMISSION
    assert "Transition issues" in caught.value.message
    assert "Create issues" not in caught.value.message
    with pytest.raises(ProviderError) as caught:
        provider.set_priority(key, "High")
    assert "Edit issues" in caught.value.message


def test_request_bodies_match_the_openapi(
    make_provider: Make, jira: httpx2.Client, recorder: RecordingTransport
) -> None:
    key = new_issue(jira)
    provider = make_provider(transport=recorder)
    provider.transition(key, ["Done"], resolution="Declined", comment=COMMENT)
    provider.set_priority(key, "High")
    spec = load_spec()
    operations = {
        ("POST", "transitions"): spec["paths"][f"{API}/issue/{{issueIdOrKey}}/transitions"]["post"],
        ("PUT", "issue"): spec["paths"][f"{API}/issue/{{issueIdOrKey}}"]["put"],
    }
    bodies = [(m, p, b) for m, p, b in recorder.sent if b is not None]
    assert [(m, p.rsplit("/", 1)[-1]) for m, p, _ in bodies] == [
        ("POST", "transitions"),
        ("PUT", key),
    ]
    for method, path, body in bodies:
        operation = operations[(method, "transitions" if path.endswith("transitions") else "issue")]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        OAS30Validator({**schema, "components": spec["components"]}).validate(body)
    transition_body = bodies[0][2]
    assert transition_body["fields"] == {"resolution": {"name": "Declined"}}
    jsonschema.Draft4Validator(adf_schema()).validate(
        transition_body["update"]["comment"][0]["add"]["body"]
    )
