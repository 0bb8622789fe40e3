"""Comments with properties, issue properties, issue links and the browse page, as on Cloud."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2

from sentineliq.sandbox.jira import JiraSandbox

Create = Callable[..., httpx2.Response]
API = "/rest/api/3"


def adf(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"type": "doc", "version": 1, "content": list(blocks)}


def para(value: str) -> dict[str, Any]:
    return {"type": "paragraph", "content": [{"type": "text", "text": value}]}


def _key(response: httpx2.Response) -> str:
    assert response.status_code == 201, response.text
    key = response.json()["key"]
    assert isinstance(key, str)
    return key


def _comment(
    client: httpx2.Client, key: str, text: str, props: list[dict[str, Any]] | None = None
) -> httpx2.Response:
    body: dict[str, Any] = {"body": adf(para(text))}
    if props is not None:
        body["properties"] = props
    return client.post(f"{API}/issue/{key}/comment", json=body)


# -- comments -------------------------------------------------------------------------------------


def test_comment_properties_come_back_only_when_expanded(
    create: Create, client: httpx2.Client
) -> None:
    key = _key(create())
    marker = [{"key": "sentineliq.delivery", "value": {"key": "siq-1"}}]
    posted = _comment(client, key, "fired again 3 times", marker)
    assert posted.status_code == 201, posted.text
    assert "properties" not in posted.json()
    comment_id = posted.json()["id"]

    plain = client.get(f"{API}/issue/{key}/comment").json()["comments"][0]
    assert "properties" not in plain
    expanded = client.get(f"{API}/issue/{key}/comment", params={"expand": "properties"})
    assert expanded.json()["comments"][0]["properties"] == marker
    one = client.get(f"{API}/issue/{key}/comment/{comment_id}", params={"expand": "properties"})
    assert one.status_code == 200
    assert one.json()["properties"] == marker
    assert one.json()["author"]["emailAddress"] == "sandbox@sentineliq.test"
    assert one.json()["created"] == one.json()["updated"]
    assert client.get(f"{API}/issue/{key}/comment/99999").status_code == 404


def test_comments_page_and_order(create: Create, client: httpx2.Client) -> None:
    key = _key(create())
    for n in range(5):
        assert _comment(client, key, f"comment {n}").status_code == 201
    newest = client.get(
        f"{API}/issue/{key}/comment", params={"orderBy": "-created", "maxResults": 2}
    ).json()
    assert newest["total"] == 5
    assert newest["maxResults"] == 2
    texts = [c["body"]["content"][0]["content"][0]["text"] for c in newest["comments"]]
    assert texts == ["comment 4", "comment 3"]
    rest = client.get(f"{API}/issue/{key}/comment", params={"startAt": 4}).json()
    assert [c["body"]["content"][0]["content"][0]["text"] for c in rest["comments"]] == [
        "comment 4"
    ]
    bad = client.get(f"{API}/issue/{key}/comment", params={"orderBy": "updated"})
    assert bad.status_code == 400
    huge = client.get(f"{API}/issue/{key}/comment", params={"maxResults": 9000})
    assert huge.json()["maxResults"] == 5000


def test_comment_bumps_issue_updated_but_a_property_does_not(
    create: Create, client: httpx2.Client, sandbox: JiraSandbox
) -> None:
    key = _key(create())

    def updated() -> str:
        (issue,) = [i for i in sandbox.issues() if i["key"] == key]
        value = issue["updated_at"]  # microseconds: any later write shows
        assert isinstance(value, str)
        return value

    before = updated()
    put = client.put(f"{API}/issue/{key}/properties/sentineliq.occurrences", json={"count": 2})
    assert put.status_code == 201
    again = client.put(f"{API}/issue/{key}/properties/sentineliq.occurrences", json={"count": 3})
    assert again.status_code == 200
    assert updated() == before
    _comment(client, key, "x")
    assert updated() > before
    fields = client.get(f"{API}/issue/{key}", params={"fields": "updated,comment"}).json()
    comment_time = fields["fields"]["comment"]["comments"][0]["created"]
    assert fields["fields"]["updated"] == comment_time


def test_comment_property_limits_and_shape(create: Create, client: httpx2.Client) -> None:
    key = _key(create())
    too_big = [{"key": "k", "value": {"v": "x" * 33_000}}]
    assert _comment(client, key, "x", too_big).status_code == 400
    long_key = [{"key": "k" * 256, "value": 1}]
    assert _comment(client, key, "x", long_key).status_code == 400
    # The OpenAPI EntityProperty schema has no room for other members.
    bad = _comment(client, key, "x", [{"key": "k", "value": 1, "extra": True}])
    assert bad.status_code == 400
    assert "schema" in bad.text
    assert client.get(f"{API}/issue/{key}/comment").json()["total"] == 0


def test_readonly_user_cannot_comment(
    create: Create, readonly: httpx2.Client, client: httpx2.Client
) -> None:
    key = _key(create())
    assert _comment(readonly, key, "x").status_code == 403


def test_property_key_and_size_limits(create: Create, client: httpx2.Client) -> None:
    key = _key(create())
    assert client.put(f"{API}/issue/{key}/properties/{'k' * 256}", json=1).status_code == 400
    big = {"v": "x" * 32_800}
    assert client.put(f"{API}/issue/{key}/properties/big", json=big).status_code == 400


# -- links ----------------------------------------------------------------------------------------


def test_default_link_types(client: httpx2.Client) -> None:
    types = client.get(f"{API}/issueLinkType").json()["issueLinkTypes"]
    by_name = {t["name"]: t for t in types}
    assert set(by_name) == {"Blocks", "Cloners", "Duplicate", "Relates"}
    assert by_name["Relates"]["id"] == "10003"
    assert by_name["Relates"]["inward"] == by_name["Relates"]["outward"] == "relates to"


def _links(client: httpx2.Client, key: str) -> list[dict[str, Any]]:
    answer = client.get(f"{API}/issue/{key}", params={"fields": "issuelinks"}).json()
    links = answer["fields"]["issuelinks"]
    assert isinstance(links, list)
    return links


def test_create_with_relates_link_shows_on_both_issues(
    create: Create, client: httpx2.Client
) -> None:
    old = _key(create(summary="first occurrence"))
    body = {
        "fields": {
            "project": {"key": "SEC"},
            "issuetype": {"id": "10001"},
            "summary": "it came back",
        },
        "update": {
            "issuelinks": [{"add": {"type": {"name": "Relates"}, "outwardIssue": {"key": old}}}]
        },
    }
    new = _key(client.post(f"{API}/issue", json=body))
    (on_new,) = _links(client, new)
    assert on_new["type"]["name"] == "Relates"
    assert on_new["outwardIssue"]["key"] == old
    assert on_new["outwardIssue"]["fields"]["status"]["name"] == "To Do"
    (on_old,) = _links(client, old)
    assert on_old["inwardIssue"]["key"] == new
    assert on_old["id"] == on_new["id"]


def test_create_with_a_bad_link_creates_nothing(
    create: Create, client: httpx2.Client, sandbox: JiraSandbox
) -> None:
    def body(link: dict[str, Any]) -> dict[str, Any]:
        fields = {"project": {"key": "SEC"}, "issuetype": {"id": "10001"}, "summary": "s"}
        return {"fields": fields, "update": {"issuelinks": [{"add": link}]}}

    missing = client.post(
        f"{API}/issue",
        json=body({"type": {"name": "Relates"}, "outwardIssue": {"key": "SEC-99"}}),
    )
    assert missing.status_code == 400
    assert "SEC-99" in missing.json()["errors"]["issuelinks"]
    old = _key(create())
    unknown = client.post(
        f"{API}/issue", json=body({"type": {"name": "Nope"}, "outwardIssue": {"key": old}})
    )
    assert unknown.status_code == 400
    assert "issuelinks" in unknown.json()["errors"]
    assert [i["key"] for i in sandbox.issues()] == [old]


def test_link_type_removed_refuses_the_link(
    create: Create, client: httpx2.Client, sandbox: JiraSandbox
) -> None:
    sandbox.remove_link_type("Relates")
    names = [t["name"] for t in client.get(f"{API}/issueLinkType").json()["issueLinkTypes"]]
    assert "Relates" not in names
    old = _key(create())
    link = {"type": {"name": "Relates"}, "inwardIssue": {"key": old}, "outwardIssue": {"key": old}}
    assert client.post(f"{API}/issueLink", json=link).status_code == 404


def test_issue_link_post_validated_and_linked(create: Create, client: httpx2.Client) -> None:
    a, b = _key(create(summary="a")), _key(create(summary="b"))
    link = {"type": {"name": "Blocks"}, "outwardIssue": {"key": a}, "inwardIssue": {"key": b}}
    made = client.post(f"{API}/issueLink", json=link)
    assert made.status_code == 201
    assert made.content == b""
    assert client.post(f"{API}/issueLink", json=link).status_code == 201  # duplicate: one link
    (on_a,) = _links(client, a)
    assert on_a["outwardIssue"]["key"] == b  # a blocks b
    (on_b,) = _links(client, b)
    assert on_b["inwardIssue"]["key"] == a  # b is blocked by a
    schema = client.post(f"{API}/issueLink", json={"type": {"name": "Blocks"}})
    assert schema.status_code == 400
    assert "inwardIssue" in schema.text


def test_link_field_off_screen_is_refused(
    create: Create, client: httpx2.Client, sandbox: JiraSandbox
) -> None:
    old = _key(create())
    sandbox.remove_field_from_screen("SEC", "Task", "issuelinks")
    body = {
        "fields": {"project": {"key": "SEC"}, "issuetype": {"id": "10001"}, "summary": "s"},
        "update": {
            "issuelinks": [{"add": {"type": {"name": "Relates"}, "outwardIssue": {"key": old}}}]
        },
    }
    refused = client.post(f"{API}/issue", json=body)
    assert refused.status_code == 400
    assert "not on the appropriate screen" in refused.json()["errors"]["issuelinks"]


# -- the browse page ------------------------------------------------------------------------------


HOSTILE = '<script>alert("x")</script>'


def test_browse_page_shows_coalesced_comment_links_and_properties(
    create: Create, client: httpx2.Client, anon: httpx2.Client
) -> None:
    old = _key(create(summary="first"))
    body = {
        "fields": {"project": {"key": "SEC"}, "issuetype": {"id": "10001"}, "summary": "again"},
        "update": {
            "issuelinks": [{"add": {"type": {"name": "Relates"}, "outwardIssue": {"key": old}}}]
        },
    }
    key = _key(client.post(f"{API}/issue", json=body))
    cell = {"type": "tableCell", "content": [para("3")]}
    header = {"type": "tableHeader", "content": [para("occurrences")]}
    doc = adf(
        {"type": "heading", "attrs": {"level": 3}, "content": [{"type": "text", "text": "Again"}]},
        para(HOSTILE),
        {
            "type": "table",
            "content": [
                {"type": "tableRow", "content": [header]},
                {"type": "tableRow", "content": [cell]},
            ],
        },
    )
    posted = client.post(f"{API}/issue/{key}/comment", json={"body": doc})
    assert posted.status_code == 201, posted.text
    prop = {"count": 3, "note": HOSTILE}
    client.put(f"{API}/issue/{key}/properties/sentineliq.occurrences", json=prop)

    page = anon.get(f"/browse/{key}")
    assert page.status_code == 200
    html = page.text
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<table><tr><th><p>occurrences</p></th></tr><tr><td><p>3</p></td></tr></table>" in html
    assert "<h3>Again</h3>" in html
    assert "Sandbox Admin" in html  # the comment's author
    assert f'href="/browse/{old}"' in html
    assert "relates to" in html
    assert "sentineliq.occurrences" in html
    assert "Unresolved" in html
