"""Comments posted exactly once, issue properties and "relates to" links, through JiraProvider
against the real sandbox over HTTP (every body checked against Atlassian's OpenAPI there)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from jira_samples import READONLY_EMAIL, READONLY_TOKEN, RecordingTransport, calls

from sentineliq.document.model import Document, Paragraph, Text
from sentineliq.providers.base import ErrorKind, ProviderError
from sentineliq.providers.jira import comments
from sentineliq.providers.jira.provider import JiraCreatedTicket, JiraProvider
from sentineliq.sandbox.jira.links import LinkType
from sentineliq.tickets.draft import Priority, TicketDraft

Make = Callable[..., JiraProvider]
API = "/rest/api/3"


def draft(summary: str = "Credential stuffing against VPN") -> TicketDraft:
    return TicketDraft(
        summary=summary,
        document=Document((Paragraph((Text("Many failed logins"),)),)),
        priority=Priority.HIGH,
        labels=("vpn",),
        link="https://console.example.test/alerts/1",
        attributes={"fingerprint": "fp-1"},
    )


def doc(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def comments_of(sandbox: Any, key: str) -> list[dict[str, Any]]:
    (issue,) = [i for i in sandbox.issues() if i["key"] == key]
    found = issue["comments"]
    assert isinstance(found, list)
    return found


def links_of(provider: JiraProvider, sandbox: Any, key: str) -> list[dict[str, Any]]:
    (issue,) = [i for i in sandbox.issues() if i["key"] == key]
    found = issue["fields"]["issuelinks"]
    assert isinstance(found, list)
    return found


# -- comments -------------------------------------------------------------------------------------


def test_comment_carries_its_marker_and_is_found(make_provider: Make, sandbox: Any) -> None:
    provider = make_provider()
    key = provider.create_ticket(draft(), idempotency_key="k1").key
    comment_id = provider.add_comment(key, doc("Fired again 3 times"), marker="occ-1-3")
    assert provider.find_comment(key, "occ-1-3") == comment_id
    assert provider.find_comment(key, "occ-1-4") is None
    (stored,) = comments_of(sandbox, key)
    assert stored["id"] == comment_id
    expanded = provider.client.comments_page(key)["comments"][0]
    assert expanded["properties"] == [
        {"key": comments.MARKER_PROPERTY, "value": {"key": "occ-1-3"}}
    ]


def test_marker_found_after_a_lost_answer(make_provider: Make, sandbox: Any) -> None:
    """The retry path: the POST took effect but its answer never came; the look-up finds the
    comment, so the caller does not post a second one."""
    provider = make_provider(timeout_s=1.0)
    key = provider.create_ticket(draft(), idempotency_key="k1").key
    sent: list[str] = []
    sandbox.set_fault(
        "slow", delay_s=60.0, count=1, method="POST", path=f"{API}/issue/{key}/comment"
    )
    with pytest.raises(ProviderError) as caught:
        provider.add_comment(
            key, doc("Fired again 2 times"), marker="occ-7-2", before_send=lambda: sent.append("x")
        )
    assert caught.value.kind is ErrorKind.AMBIGUOUS
    assert sent == ["x"]  # the caller could mark "possibly sent" before it left
    found = provider.find_comment(key, "occ-7-2")
    (stored,) = comments_of(sandbox, key)  # processed at once; only the answer was late
    assert found == stored["id"]


def test_find_comment_pages_newest_first_and_is_bounded(
    make_provider: Make, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = make_provider()
    key = provider.create_ticket(draft(), idempotency_key="k1").key
    first = provider.add_comment(key, doc("oldest"), marker="m-0")
    for n in range(1, 5):
        provider.add_comment(key, doc(f"comment {n}"), marker=f"m-{n}")
    monkeypatch.setattr(comments, "FIND_PAGE_SIZE", 2)
    before = calls(sandbox, "GET", f"{API}/issue/{key}/comment")
    assert provider.find_comment(key, "m-0") == first
    assert calls(sandbox, "GET", f"{API}/issue/{key}/comment") - before == 3  # 2 + 2 + 1
    monkeypatch.setattr(comments, "FIND_MAX_PAGES", 1)
    assert provider.find_comment(key, "m-0") is None  # beyond the newest page: not looked at
    assert provider.find_comment(key, "m-4") is not None


def test_comment_needs_a_marker_and_a_document(make_provider: Make) -> None:
    provider = make_provider()
    with pytest.raises(ValueError, match="marker"):
        provider.add_comment("SEC-1", doc("x"), marker=" ")
    with pytest.raises(ValueError, match="body"):
        provider.add_comment("SEC-1", {"text": "x"}, marker="m")


def test_comment_refusals_are_classified(
    make_provider: Make, make_config: Any, sandbox: Any
) -> None:
    provider = make_provider()
    key = provider.create_ticket(draft(), idempotency_key="k1").key
    with pytest.raises(ProviderError) as missing:
        provider.add_comment("SEC-99", doc("x"), marker="m")
    assert missing.value.kind is ErrorKind.NOT_FOUND
    reader = make_provider(email=READONLY_EMAIL, api_token=READONLY_TOKEN)
    with pytest.raises(ProviderError) as refused:
        reader.add_comment(key, doc("x"), marker="m")
    assert refused.value.kind is ErrorKind.PERMISSION
    assert READONLY_TOKEN not in str(refused.value)


# -- issue properties -----------------------------------------------------------------------------


def test_set_issue_property_creates_then_replaces(make_provider: Make, sandbox: Any) -> None:
    provider = make_provider()
    key = provider.create_ticket(draft(), idempotency_key="k1").key
    value = {"count": 2, "first_seen": "2026-12-02T10:00:00Z", "last_seen": "2026-12-02T10:05:00Z"}
    provider.set_issue_property(key, "sentineliq.occurrences", value)
    provider.set_issue_property(key, "sentineliq.occurrences", {**value, "count": 3})
    stored = provider.client.get_issue_property(key, "sentineliq.occurrences")
    assert stored["value"]["count"] == 3
    with pytest.raises(ProviderError) as too_big:
        provider.set_issue_property(key, "big", {"v": "x" * 33_000})
    assert too_big.value.kind is ErrorKind.VALIDATION


# -- relates_to -----------------------------------------------------------------------------------


def test_relates_to_links_in_the_create_itself(make_provider: Make, sandbox: Any) -> None:
    provider = make_provider()
    old = provider.create_ticket(draft("first"), idempotency_key="k1").key
    before = calls(sandbox, "POST", f"{API}/issue")
    new = provider.create_ticket(draft("again"), idempotency_key="k2", relates_to=old)
    assert calls(sandbox, "POST", f"{API}/issue") - before == 1  # one request: atomic
    assert calls(sandbox, "POST", f"{API}/issueLink") == 0
    assert new.dropped_fields == ()
    (on_new,) = links_of(provider, sandbox, new.key)
    assert on_new["type"]["name"] == "Relates"
    assert on_new["outwardIssue"]["key"] == old
    (on_old,) = links_of(provider, sandbox, old)
    assert on_old["inwardIssue"]["key"] == new.key
    # The link types are cached with the other metadata.
    provider.create_ticket(draft("third"), idempotency_key="k3", relates_to=old)
    assert calls(sandbox, "GET", f"{API}/issueLinkType") == 1


def test_relates_to_sends_the_update_operation(
    make_provider: Make, recorder: RecordingTransport, sandbox: Any
) -> None:
    provider = make_provider(transport=recorder)
    old = provider.create_ticket(draft(), idempotency_key="k1").key
    provider.create_ticket(draft(), idempotency_key="k2", relates_to=old.lower())
    body = [b for m, p, b in recorder.sent if m == "POST" and p == f"{API}/issue"][-1]
    assert body["update"] == {
        "issuelinks": [{"add": {"type": {"id": "10003"}, "outwardIssue": {"key": old}}}]
    }


def test_missing_link_type_creates_the_ticket_and_reports_the_link(
    make_provider: Make, sandbox: Any
) -> None:
    provider = make_provider()
    old = provider.create_ticket(draft(), idempotency_key="k1").key
    sandbox.remove_link_type("Relates")
    ticket = provider.create_ticket(draft(), idempotency_key="k2", relates_to=old)
    assert isinstance(ticket, JiraCreatedTicket)
    assert ticket.dropped_fields == ("issuelinks",)
    (reason,) = ticket.drop_reasons
    assert "Relates" in reason.reason
    assert old in reason.reason
    assert links_of(provider, sandbox, ticket.key) == []


def test_renamed_relates_type_is_found_by_its_verbs(make_provider: Make, sandbox: Any) -> None:
    sandbox.set_link_types([LinkType("10400", "Related work", "relates to", "relates to")])
    provider = make_provider()
    old = provider.create_ticket(draft(), idempotency_key="k1").key
    ticket = provider.create_ticket(draft(), idempotency_key="k2", relates_to=old)
    (link,) = links_of(provider, sandbox, ticket.key)
    assert link["type"]["id"] == "10400"


def test_link_jira_refuses_is_dropped_and_the_ticket_still_made(
    make_provider: Make, sandbox: Any
) -> None:
    provider = make_provider()
    ticket = provider.create_ticket(draft(), idempotency_key="k1", relates_to="SEC-404")
    assert isinstance(ticket, JiraCreatedTicket)
    assert ticket.dropped_fields == ("issuelinks",)
    assert "SEC-404" in ticket.drop_reasons[0].reason
    assert len(sandbox.issues()) == 1


def test_link_field_off_the_screen_is_dropped(make_provider: Make, sandbox: Any) -> None:
    provider = make_provider()
    old = provider.create_ticket(draft(), idempotency_key="k1").key
    sandbox.remove_field_from_screen("SEC", "Task", "issuelinks")
    provider.metadata.invalidate()
    ticket = provider.create_ticket(draft(), idempotency_key="k2", relates_to=old)
    assert isinstance(ticket, JiraCreatedTicket)
    assert ticket.dropped_fields == ("issuelinks",)
    assert ticket.drop_reasons[0].not_on_screen
    assert calls(sandbox, "GET", f"{API}/issueLinkType") == 0


def test_relates_to_that_is_no_issue_key_is_dropped(make_provider: Make) -> None:
    provider = make_provider()
    ticket = provider.create_ticket(draft(), idempotency_key="k1", relates_to="not a key")
    assert ticket.dropped_fields == ("issuelinks",)
