"""search/jql in the Jira sandbox: the JQL subset, paging, fields, and the search lag."""

from __future__ import annotations

from collections.abc import Callable

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentineliq.sandbox.jira import JiraSandbox, ManualClock, jql
from sentineliq.sandbox.jira.errors import JiraError

API = "/rest/api/3"
Create = Callable[..., httpx2.Response]


def search(client: httpx2.Client, query: str, **body: object) -> httpx2.Response:
    return client.post(f"{API}/search/jql", json={"jql": query, **body})


def ids(response: httpx2.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [issue["id"] for issue in response.json()["issues"]]


@pytest.fixture
def three_issues(create: Create) -> list[str]:
    """SEC-1 (labels a, shared), SEC-2 (b, shared), SEC-3 (no labels); returns their ids."""
    created = [
        create(labels=["alertfp-a", "shared"]),
        create(labels=["alertfp-b", "shared"], issuetype={"name": "Bug"}, priority={"id": "1"}),
        create(),
    ]
    return [r.json()["id"] for r in created]


def test_labels_clause_finds_the_marked_issue(
    client: httpx2.Client, three_issues: list[str]
) -> None:
    assert ids(search(client, 'project = SEC AND labels = "alertfp-a"')) == [three_issues[0]]
    assert ids(search(client, "labels = alertfp-b")) == [three_issues[1]]
    assert ids(search(client, "labels = nothing-has-this")) == []


def test_default_result_is_ids_only_newest_first_without_total(
    client: httpx2.Client, three_issues: list[str]
) -> None:
    result = search(client, "labels = shared").json()
    assert result == {"issues": [{"id": three_issues[1]}, {"id": three_issues[0]}], "isLast": True}


def test_key_and_issue_in_clauses(client: httpx2.Client, three_issues: list[str]) -> None:
    assert ids(search(client, "key = SEC-2")) == [three_issues[1]]
    assert ids(search(client, "issue in (SEC-1, SEC-3) ORDER BY key ASC")) == [
        three_issues[0],
        three_issues[2],
    ]
    assert ids(search(client, "issuekey not in (SEC-1) order by created asc")) == three_issues[1:]
    missing = search(client, "key = SEC-404")
    assert missing.status_code == 400
    assert missing.json()["errorMessages"] == [
        "An issue with key 'SEC-404' does not exist for field 'key'."
    ]


def test_other_supported_clauses(client: httpx2.Client, three_issues: list[str]) -> None:
    assert ids(search(client, 'project = sec AND issuetype = Bug AND priority = "Highest"')) == [
        three_issues[1]
    ]
    assert ids(search(client, 'status = "To Do" AND labels != shared')) == [three_issues[2]]
    unknown_project = search(client, "project = NOPE")
    assert unknown_project.status_code == 400
    assert (
        "'NOPE' does not exist for the field 'project'"
        in unknown_project.json()["errorMessages"][0]
    )


def test_requested_fields_are_returned(client: httpx2.Client, three_issues: list[str]) -> None:
    [hit] = search(client, "key = SEC-1", fields=["summary", "labels"]).json()["issues"]
    assert hit["key"] == "SEC-1"
    assert hit["fields"] == {
        "summary": "Suspicious login from a new country",
        "labels": ["alertfp-a", "shared"],
    }


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "Unbounded JQL"),
        ("ORDER BY key DESC", "Unbounded JQL"),
        ("labels = a OR labels = b", "Unsupported JQL: OR"),
        ("assignee = currentUser()", "Unsupported JQL: field 'assignee'"),
        ("summary ~ phishing", "Unsupported JQL: field 'summary'"),
        ("labels ~ a", "Unsupported JQL: operator '~'"),
        ("(labels = a)", "Unsupported JQL: parenthesised"),
        ("labels = ", "Error in the JQL Query"),
        ('labels = "unterminated', "Error in the JQL Query"),
        ("labels = a ORDER BY summary", "Unsupported JQL: ORDER BY 'summary'"),
    ],
)
def test_bad_jql_is_a_400_that_says_why(client: httpx2.Client, query: str, message: str) -> None:
    response = search(client, query)
    assert response.status_code == 400
    assert message in response.json()["errorMessages"][0]


def test_paging_with_next_page_token(client: httpx2.Client, create: Create) -> None:
    for _ in range(5):
        create(labels=["bulk"])
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        body: dict[str, object] = {"maxResults": 2, "fields": ["key"]}
        if token:
            body["nextPageToken"] = token
        page = search(client, "labels = bulk ORDER BY key ASC", **body).json()
        seen += [i["key"] for i in page["issues"]]
        pages += 1
        token = page.get("nextPageToken")
        assert page["isLast"] is (token is None)
        if token is None:
            break
    assert seen == ["SEC-1", "SEC-2", "SEC-3", "SEC-4", "SEC-5"]
    assert pages == 3
    foreign = search(client, "labels = other", nextPageToken=page.get("nextPageToken") or "x")
    assert foreign.status_code == 400


def test_get_variant_and_body_validation(client: httpx2.Client, three_issues: list[str]) -> None:
    got = client.get(
        f"{API}/search/jql", params={"jql": "labels = shared", "fields": "summary,labels"}
    )
    assert [i["key"] for i in got.json()["issues"]] == ["SEC-2", "SEC-1"]
    extra = client.post(f"{API}/search/jql", json={"jql": "labels = a", "startAt": 0})
    assert extra.status_code == 400  # startAt belongs to the removed endpoint
    assert "startAt" in extra.json()["errorMessages"][0]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_old_search_endpoint_is_gone(client: httpx2.Client, method: str) -> None:
    response = client.request(method, f"{API}/search", params={"jql": "project = SEC"})
    assert response.status_code == 410
    assert "/rest/api/3/search/jql" in response.json()["errorMessages"][0]


def test_search_lag_hides_new_issues_until_it_passes(
    client: httpx2.Client, create: Create, sandbox: JiraSandbox, clock: ManualClock
) -> None:
    sandbox.set_search_lag(2.0)
    issue_id = create(labels=["fresh"]).json()["id"]
    assert ids(search(client, "labels = fresh")) == []
    # The issue itself is readable at once; only the search index lags.
    assert client.get(f"{API}/issue/{issue_id}").status_code == 200
    assert ids(search(client, "key = SEC-1")) == []
    clock.advance(1.9)
    assert ids(search(client, "labels = fresh")) == []
    clock.advance(0.1)
    assert ids(search(client, "labels = fresh")) == [issue_id]


def test_reconcile_issues_sees_through_the_lag(
    client: httpx2.Client, create: Create, sandbox: JiraSandbox
) -> None:
    sandbox.set_search_lag(60.0)
    issue_id = create(labels=["fresh"]).json()["id"]
    assert ids(search(client, "labels = fresh")) == []
    assert ids(search(client, "labels = fresh", reconcileIssues=[int(issue_id)])) == [issue_id]


_JQL_WORDS = st.sampled_from(
    [
        "project",
        "labels",
        "key",
        "issue",
        "status",
        "=",
        "!=",
        "in",
        "not",
        "(",
        ")",
        ",",
        "AND",
        "OR",
        "ORDER",
        "BY",
        "DESC",
        "SEC",
        "SEC-1",
        '"a b"',
        "'x'",
        "~",
        "EMPTY",
        "summary",
    ]
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=60), st.lists(_JQL_WORDS, max_size=12).map(" ".join)))
def test_jql_parser_never_fails_with_anything_but_a_jira_400(text: str) -> None:
    error: JiraError | None = None
    try:
        jql.parse(text)  # any other exception fails the test
    except JiraError as err:
        error = err
    if error is not None:
        assert error.status == 400
        assert error.messages
