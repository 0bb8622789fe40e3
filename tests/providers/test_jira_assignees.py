"""Assignees through the provider against the sandbox: hidden emails resolved by assignable
search, honest misses with their reason in the ticket, the workspace mapping winning over
search, the miss TTL, and the connection check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import pytest
from jira_samples import ANALYST_EMAIL, PRIVATE_EMAIL, calls

from sentineliq.document.adf import DEFAULT_MAX_CHARS, adf_size
from sentineliq.document.model import Document, Paragraph, Text
from sentineliq.providers.jira.assignees import AssigneeLookup, pick_account, unassigned_note
from sentineliq.providers.jira.metadata import DEFAULT_TTLS, Kind, MetadataCache
from sentineliq.providers.jira.provider import JiraCreatedTicket, JiraProvider
from sentineliq.sandbox.jira import ManualClock
from sentineliq.sandbox.jira.model import account_id_for
from sentineliq.sandbox.jira.seed import HIDDEN_EMAIL_USERS
from sentineliq.tickets.draft import Priority, TicketDraft

Make = Callable[..., JiraProvider]
ASSIGNABLE = "/rest/api/3/user/assignable/search"
HIDDEN = HIDDEN_EMAIL_USERS[0][0]  # jordan.lee@sentineliq.test, email hidden


class Mappings:
    """A workspace mapping held in memory (the stored one is tested in services and storage)."""

    def __init__(self, **by_email: str) -> None:
        self.by_email = {email.casefold(): account for email, account in by_email.items()}
        self.asked: list[str] = []

    def account_for(self, email: str) -> str | None:
        self.asked.append(email)
        return self.by_email.get(email)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def cache(clock: ManualClock) -> MetadataCache:
    return MetadataCache(clock=clock)


def draft(email: str | None, **overrides: Any) -> TicketDraft:
    values: dict[str, Any] = {
        "summary": "Beacon to a known C2 host",
        "document": Document((Paragraph((Text("EDR saw a beacon."),)),)),
        "priority": Priority.HIGH,
        "assignee_email": email,
        "attributes": {"fingerprint": "fp"},
    }
    values.update(overrides)
    return TicketDraft(**values)


def create(provider: JiraProvider, email: str | None, key: str = "k", **kw: Any) -> Any:
    ticket = provider.create_ticket(draft(email, **kw), idempotency_key=key)
    assert isinstance(ticket, JiraCreatedTicket)
    return ticket


def issue(sandbox: Any, key: str) -> dict[str, Any]:
    found = [i for i in sandbox.issues() if i["key"] == key]
    assert len(found) == 1
    return found[0]  # type: ignore[no-any-return]


def paragraphs(description: dict[str, Any]) -> list[str]:
    return [
        "".join(part.get("text", "") for part in node.get("content", []))
        for node in description["content"]
        if node["type"] == "paragraph"
    ]


# --- resolution ---------------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", [HIDDEN, f"  {HIDDEN.upper()} ", PRIVATE_EMAIL])
def test_hidden_email_resolves_through_assignable_search(
    make_provider: Make, sandbox: Any, spelling: str
) -> None:
    ticket = create(make_provider(), spelling)
    assert ticket.dropped_fields == ()
    assigned = issue(sandbox, ticket.key)["fields"]["assignee"]
    assert assigned["accountId"] == account_id_for(spelling.strip())
    assert "emailAddress" not in assigned  # Jira never showed it, yet the right person got it
    assert calls(sandbox, "GET", ASSIGNABLE) == 1
    assert calls(sandbox, "GET", "/rest/api/3/user/search") == 0


def test_the_search_is_scoped_to_the_project(make_provider: Make, sandbox: Any) -> None:
    create(make_provider(), HIDDEN)
    (query,) = [r.query for r in sandbox.requests() if r.path.startswith(ASSIGNABLE)]
    params = parse_qs(query)
    assert params["project"] == ["SEC"]
    assert params["query"] == [HIDDEN]


def test_visible_email_still_resolves(make_provider: Make, sandbox: Any) -> None:
    ticket = create(make_provider(), ANALYST_EMAIL.upper())
    assert issue(sandbox, ticket.key)["fields"]["assignee"]["emailAddress"] == ANALYST_EMAIL


def test_ambiguous_match_stays_unassigned_with_the_reason_in_the_ticket(
    make_provider: Make, sandbox: Any
) -> None:
    # Two hidden-email accounts answer the same query: one by its address, one by its name.
    sandbox.add_user("soc@corp.test", "SOC Shared Mailbox", email_visible=False)
    sandbox.add_user("lead@corp.test", "soc@corp.test (lead)", email_visible=False)
    ticket = create(make_provider(), "soc@corp.test")
    assert ticket.dropped_fields == ("assignee",)
    reason = ticket.drop_reasons[0].reason
    assert reason.startswith("2 accounts with hidden email addresses match")
    created = issue(sandbox, ticket.key)["fields"]
    assert created.get("assignee") is None
    *_, last = paragraphs(created["description"])
    assert last == f"Assignee soc@corp.test could not be assigned: {reason}"


@pytest.mark.parametrize(
    ("user", "why"),
    [
        ({"account_type": "app", "email_visible": False}, "the only match is an app account"),
        (
            {"account_type": "customer", "email_visible": False},
            "the only match is a customer account",
        ),
        ({"account_type": "app"}, "the account with this email is an app account"),
    ],
)
def test_accounts_that_are_not_people_are_not_assigned(
    make_provider: Make, sandbox: Any, user: dict[str, Any], why: str
) -> None:
    sandbox.add_user("robot@corp.test", "Robot", **user)
    ticket = create(make_provider(), "robot@corp.test")
    assert ticket.dropped_fields == ("assignee",)
    assert ticket.drop_reasons[0].reason.startswith(why)


def test_unknown_email_note_names_the_reason_and_stays_out_when_assigned(
    make_provider: Make, sandbox: Any
) -> None:
    provider = make_provider()
    missed = create(provider, "ghost@corp.test", key="a")
    hit = create(provider, HIDDEN, key="b")
    missed_text = paragraphs(issue(sandbox, missed.key)["fields"]["description"])
    assert missed_text[-1].startswith("Assignee ghost@corp.test could not be assigned: nobody")
    hit_text = paragraphs(issue(sandbox, hit.key)["fields"]["description"])
    assert not any(p.startswith("Assignee ") for p in hit_text)


def test_the_note_survives_truncation_within_the_size_budget(
    make_provider: Make, sandbox: Any
) -> None:
    huge = Document(tuple(Paragraph((Text(f"line {n} " + "x" * 900),)) for n in range(60)))
    ticket = create(make_provider(), "ghost@corp.test", document=huge)
    description = issue(sandbox, ticket.key)["fields"]["description"]
    assert adf_size(description) <= DEFAULT_MAX_CHARS
    assert paragraphs(description)[-1].startswith("Assignee ghost@corp.test could not")


@pytest.mark.parametrize(
    ("users", "resolved", "why"),
    [
        ([], None, "nobody who can be assigned in SEC"),
        ([{"accountId": "a1", "accountType": "atlassian", "active": True}], "a1", None),
        ([{"accountId": "a1", "accountType": "atlassian", "active": False}], None, "inactive"),
        (
            [
                {"accountId": "a1", "accountType": "atlassian", "active": True},
                {"accountId": "a2", "accountType": "atlassian", "active": True},
            ],
            None,
            "2 accounts with hidden email addresses match",
        ),
        (
            [
                {"accountId": "a1", "accountType": "atlassian", "active": True},
                {
                    "accountId": "a2",
                    "accountType": "atlassian",
                    "active": True,
                    "emailAddress": "x.y@corp.test.org",
                },
            ],
            None,
            "only accounts showing other email addresses",
        ),
        (
            [
                {"accountId": "a1", "accountType": "atlassian", "active": True},
                {
                    "accountId": "a2",
                    "accountType": "atlassian",
                    "active": True,
                    "emailAddress": "X.Y@Corp.Test",
                },
            ],
            "a2",
            None,
        ),
    ],
)
def test_pick_account_accepts_only_an_unambiguous_person(
    users: list[dict[str, Any]], resolved: str | None, why: str | None
) -> None:
    found = pick_account(users, "x.y@corp.test", "SEC")
    assert found.account_id == resolved
    if why is not None:
        assert found.reason is not None
        assert why in found.reason


def test_note_is_short_and_only_for_misses() -> None:
    assert unassigned_note(AssigneeLookup("a1", email="x@y")) is None
    assert unassigned_note(None) is None
    assert unassigned_note(AssigneeLookup(None, "two\nlines", email="x@y")) == (
        "Assignee x@y could not be assigned: two lines"
    )
    note = unassigned_note(AssigneeLookup(None, "r" * 2000, email="x@y"))
    assert note is not None
    assert len(note) == 500
    assert note.endswith("…")


# --- the workspace mapping ----------------------------------------------------------------------


def test_mapping_wins_over_search(make_provider: Make, sandbox: Any) -> None:
    private = account_id_for(PRIVATE_EMAIL)
    mappings = Mappings(**{ANALYST_EMAIL: private})
    ticket = create(make_provider(assignees=mappings), f" {ANALYST_EMAIL.upper()}")
    assert issue(sandbox, ticket.key)["fields"]["assignee"]["accountId"] == private
    assert mappings.asked == [ANALYST_EMAIL]  # normalized before asking
    assert calls(sandbox, "GET", ASSIGNABLE) == 0


def test_mapping_overrides_a_cached_miss(make_provider: Make, sandbox: Any) -> None:
    sandbox.add_user("soc@corp.test", "SOC Shared Mailbox", email_visible=False)
    sandbox.add_user("lead@corp.test", "soc@corp.test (lead)", email_visible=False)
    mappings = Mappings()
    provider = make_provider(assignees=mappings)
    assert create(provider, "soc@corp.test", key="a").dropped_fields == ("assignee",)
    mappings.by_email["soc@corp.test"] = account_id_for("soc@corp.test")
    ticket = create(provider, "soc@corp.test", key="b")
    assert ticket.dropped_fields == ()
    assigned = issue(sandbox, ticket.key)["fields"]["assignee"]["accountId"]
    assert assigned == account_id_for("soc@corp.test")
    assert calls(sandbox, "GET", ASSIGNABLE) == 1


def test_a_mapped_account_jira_refuses_is_dropped_with_jiras_reason(
    make_provider: Make, sandbox: Any
) -> None:
    mappings = Mappings(**{ANALYST_EMAIL: "557058:00000000-0000-0000-0000-000000000000"})
    ticket = create(make_provider(assignees=mappings), ANALYST_EMAIL)
    assert ticket.dropped_fields == ("assignee",)
    assert ticket.drop_reasons[0].reason.startswith("Jira refused it")
    assert issue(sandbox, ticket.key)["fields"].get("assignee") is None


# --- caching ------------------------------------------------------------------------------------


def test_a_miss_is_cached_for_less_time_than_a_hit(
    make_provider: Make, sandbox: Any, clock: ManualClock
) -> None:
    assert DEFAULT_TTLS.user_not_found < DEFAULT_TTLS.user
    provider = make_provider()
    create(provider, "ghost@corp.test", key="miss-1")
    create(provider, HIDDEN, key="hit-1")
    assert calls(sandbox, "GET", ASSIGNABLE) == 2

    clock.advance(DEFAULT_TTLS.user_not_found - 1)
    create(provider, "ghost@corp.test", key="miss-2")
    create(provider, HIDDEN, key="hit-2")
    assert calls(sandbox, "GET", ASSIGNABLE) == 2  # both still cached

    clock.advance(2)  # past the miss TTL only
    create(provider, "ghost@corp.test", key="miss-3")
    create(provider, HIDDEN, key="hit-3")
    assert calls(sandbox, "GET", ASSIGNABLE) == 3  # the miss was asked again, the hit was not

    clock.advance(DEFAULT_TTLS.user - DEFAULT_TTLS.user_not_found)  # past the hit TTL
    create(provider, HIDDEN, key="hit-4")
    assert calls(sandbox, "GET", ASSIGNABLE) == 4


def test_a_person_invited_after_a_miss_is_assigned_once_the_miss_expires(
    make_provider: Make, sandbox: Any, clock: ManualClock
) -> None:
    provider = make_provider()
    assert create(provider, "new@corp.test", key="a").dropped_fields == ("assignee",)
    sandbox.add_user("new@corp.test", "New Analyst", email_visible=False)
    assert create(provider, "new@corp.test", key="b").dropped_fields == ("assignee",)
    clock.advance(DEFAULT_TTLS.user_not_found + 1)
    ticket = create(provider, "new@corp.test", key="c")
    assert ticket.dropped_fields == ()
    found, cached = provider.metadata.peek(Kind.USER, "new@corp.test")
    assert found
    assert cached.account_id == account_id_for("new@corp.test")


# --- test connection ----------------------------------------------------------------------------


def _lookup_check(provider: JiraProvider, email: str) -> Any:
    report = provider.test_connection(assignee_email=email)
    (check,) = [c for c in report.checks if c.name == "assignee lookup"]
    return check


def test_connection_resolves_a_hidden_email(make_provider: Make, sandbox: Any) -> None:
    check = _lookup_check(make_provider(), HIDDEN)
    assert check.ok, check.detail
    assert check.detail == (
        f"{HIDDEN} resolves to account {account_id_for(HIDDEN)} (assignable user search)"
    )
    assert calls(sandbox, "GET", ASSIGNABLE) == 1


def test_connection_reports_an_ambiguous_email(make_provider: Make, sandbox: Any) -> None:
    sandbox.add_user("soc@corp.test", "SOC Shared Mailbox", email_visible=False)
    sandbox.add_user("lead@corp.test", "soc@corp.test (lead)", email_visible=False)
    check = _lookup_check(make_provider(), "soc@corp.test")
    assert not check.ok
    assert check.detail.startswith("soc@corp.test cannot be assigned: 2 accounts")


def test_connection_checks_a_mapped_account(make_provider: Make, sandbox: Any) -> None:
    good = Mappings(**{"soc@corp.test": account_id_for(PRIVATE_EMAIL)})
    check = _lookup_check(make_provider(assignees=good), "SOC@corp.test")
    assert check.ok, check.detail
    assert "(workspace mapping)" in check.detail
    bad = Mappings(**{"soc@corp.test": "557058:not-a-user"})
    check = _lookup_check(make_provider(assignees=bad), "soc@corp.test")
    assert not check.ok
    assert "cannot be assigned in SEC: fix or remove the mapping" in check.detail
