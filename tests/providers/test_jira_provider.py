"""JiraProvider end to end against the sandbox: mapping on the wire, caching, degradation,
error classes, and test_connection."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from datetime import date
from typing import Any

import jsonschema
import pytest
from jira_samples import (
    ADMIN_EMAIL,
    ADMIN_TOKEN,
    ANALYST_EMAIL,
    READONLY_EMAIL,
    READONLY_TOKEN,
    RecordingTransport,
    calls,
)
from openapi_schema_validator import OAS30Validator

from sentineliq.document.model import BulletList, Document, Heading, ListItem, Paragraph, Text
from sentineliq.document.schema import adf_schema
from sentineliq.providers.base import ErrorKind, ProviderError, TicketProvider
from sentineliq.providers.jira.provider import JiraCreatedTicket, JiraProvider
from sentineliq.sandbox.jira.openapi import load_spec
from sentineliq.tickets.draft import Priority, TicketDraft

Make = Callable[..., JiraProvider]
CUSTOM = {
    "customfield_10050": "threat_score",
    "Alert source": "source",
    "analyst notes": "category",
}


def draft(**overrides: Any) -> TicketDraft:
    values: dict[str, Any] = {
        "summary": "Credential stuffing against VPN",
        "document": Document(
            (
                Heading(2, (Text("What happened"),)),
                Paragraph((Text("Many failed logins from "), Text("203.0.113.7", code=True))),
                BulletList((ListItem((Paragraph((Text("T1110.004"),)),)),)),
            )
        ),
        "priority": Priority.HIGH,
        "labels": ("Severity: high", "vpn"),
        "link": "https://console.example.test/alerts/1",
        "attributes": {"fingerprint": "fp-1", "threat_score": 87, "source": "EDR"},
    }
    values.update(overrides)
    return TicketDraft(**values)


def only_issue(sandbox: Any) -> dict[str, Any]:
    (issue,) = sandbox.issues()
    return issue  # type: ignore[no-any-return]


def test_provider_satisfies_the_protocol(make_provider: Make) -> None:
    provider: TicketProvider = make_provider()
    assert provider.name == "jira"


def test_create_maps_every_field(make_provider: Make, sandbox: Any) -> None:
    provider = make_provider(custom_fields=CUSTOM)
    ticket = provider.create_ticket(
        draft(
            assignee_email=ANALYST_EMAIL.upper(),
            due_date=date(2027, 2, 1),
            attributes={
                "fingerprint": "fp-1",
                "threat_score": 87.5,
                "source": "CrowdStrike\nFalcon",
                "category": "First line\nsecond line",
            },
        ),
        idempotency_key="alert-1:jira",
    )
    assert isinstance(ticket, JiraCreatedTicket)
    assert ticket.key == "SEC-1"
    assert ticket.url == f"{sandbox.url}/browse/SEC-1"
    assert ticket.dropped_fields == ()
    issue = only_issue(sandbox)
    assert issue["key"] == ticket.key
    assert issue["id"] == ticket.id
    fields = issue["fields"]
    assert fields["summary"] == "Credential stuffing against VPN"
    assert fields["priority"]["name"] == "High"
    assert fields["labels"] == ["Severity:-high", "vpn", "siq-alert-1:jira"]
    assert fields["assignee"]["emailAddress"] == ANALYST_EMAIL
    assert fields["duedate"] == "2027-02-01"
    assert fields["customfield_10050"] == 87.5
    assert fields["customfield_10051"] == "CrowdStrike Falcon"
    assert fields["customfield_10052"]["type"] == "doc"
    assert fields["description"]["content"][0]["type"] == "heading"
    assert issue["properties"]["sentineliq"] == {
        "idempotency_key": "alert-1:jira",
        "fingerprint": "fp-1",
        "link": "https://console.example.test/alerts/1",
    }


def test_body_validates_against_openapi_and_adf(
    make_provider: Make, recorder: RecordingTransport
) -> None:
    provider = make_provider(transport=recorder, custom_fields=CUSTOM)
    provider.create_ticket(
        draft(attributes={"category": "notes", "threat_score": 3, "source": "x"}),
        idempotency_key="k",
    )
    (body,) = [b for m, p, b in recorder.sent if m == "POST" and p == "/rest/api/3/issue"]
    spec = load_spec()
    operation = spec["paths"]["/rest/api/3/issue"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    OAS30Validator({**schema, "components": spec["components"]}).validate(body)
    adf = jsonschema.Draft4Validator(adf_schema())
    adf.validate(body["fields"]["description"])
    adf.validate(body["fields"]["customfield_10052"])


def test_summary_is_cut_and_one_line_on_the_wire(make_provider: Make, sandbox: Any) -> None:
    title = "Exfiltration\n" + "x" * 400
    make_provider().create_ticket(draft(summary=title), idempotency_key="k")
    summary = only_issue(sandbox)["fields"]["summary"]
    assert len(summary) == 255
    assert summary.startswith("Exfiltration xxx")
    assert summary.endswith("…")


@pytest.mark.parametrize(
    ("priority", "overrides", "expected"),
    [
        (Priority.CRITICAL, {}, "Highest"),
        (Priority.LOW, {}, "Low"),
        (Priority.URGENT, {"priority_map": {"urgent": "High"}}, "High"),
        (Priority.LOW, {"priority_map": {"low": "lowest"}}, "Lowest"),
    ],
)
def test_priority_map_and_override(
    make_provider: Make, sandbox: Any, priority: Priority, overrides: Any, expected: str
) -> None:
    make_provider(**overrides).create_ticket(draft(priority=priority), idempotency_key="k")
    assert only_issue(sandbox)["fields"]["priority"]["name"] == expected


def test_assignee_lookup_is_cached(make_provider: Make, sandbox: Any) -> None:
    provider = make_provider()
    for n in range(3):
        provider.create_ticket(draft(assignee_email=ANALYST_EMAIL), idempotency_key=f"k{n}")
    assert calls(sandbox, "GET", "/rest/api/3/user/assignable/search") == 1
    assert calls(sandbox, "GET", "/rest/api/3/issue/createmeta/") == 2  # issue types + fields
    assert calls(sandbox, "POST", "/rest/api/3/issue") == 3
    assert all(i["fields"]["assignee"]["emailAddress"] == ANALYST_EMAIL for i in sandbox.issues())


def test_providers_of_one_config_share_the_cache(make_provider: Make, sandbox: Any) -> None:
    make_provider(config_version=3).create_ticket(draft(), idempotency_key="a")
    make_provider(config_version=3).create_ticket(draft(), idempotency_key="b")
    assert calls(sandbox, "GET", "/rest/api/3/issue/createmeta/") == 2


def test_changed_config_starts_a_fresh_cache(make_provider: Make, sandbox: Any) -> None:
    make_provider(config_version=1).create_ticket(
        draft(assignee_email=ANALYST_EMAIL), idempotency_key="a"
    )
    make_provider(config_version=2).create_ticket(
        draft(assignee_email=ANALYST_EMAIL), idempotency_key="b"
    )
    assert calls(sandbox, "GET", "/rest/api/3/issue/createmeta/") == 4
    assert calls(sandbox, "GET", "/rest/api/3/user/assignable/search") == 2


@pytest.mark.parametrize(
    ("email", "why"),
    [
        ("nobody@sentineliq.test", "nobody who can be assigned in SEC has this email"),
        # A prefix match on someone's visible email is not a match.
        ("analyst@sentineliq.tes", "only accounts showing other email addresses"),
    ],
)
def test_unknown_assignee_leaves_the_ticket_unassigned(
    make_provider: Make, sandbox: Any, email: str, why: str
) -> None:
    provider = make_provider()
    ticket = provider.create_ticket(draft(assignee_email=email), idempotency_key="k1")
    assert isinstance(ticket, JiraCreatedTicket)
    assert ticket.dropped_fields == ("assignee",)
    assert why in ticket.drop_reasons[0].reason
    assert only_issue(sandbox)["fields"].get("assignee") is None
    # The miss is cached too (briefly), so an alert storm does not hammer user search.
    provider.create_ticket(draft(assignee_email=email), idempotency_key="k2")
    assert calls(sandbox, "GET", "/rest/api/3/user/assignable/search") == 1


def test_inactive_user_is_not_assigned(make_provider: Make, sandbox: Any) -> None:
    sandbox.add_user("gone@sentineliq.test", "Gone Person", active=False)
    ticket = make_provider().create_ticket(
        draft(assignee_email="gone@sentineliq.test"), idempotency_key="k"
    )
    assert ticket.dropped_fields == ("assignee",)


def test_field_missing_from_screen_is_dropped_up_front(make_provider: Make, sandbox: Any) -> None:
    sandbox.remove_field_from_screen("SEC", "Task", "priority")
    ticket = make_provider().create_ticket(draft(), idempotency_key="k")
    assert ticket.dropped_fields == ("priority",)
    # One POST and no 400: priority was left out before Jira could refuse it.
    assert calls(sandbox, "POST", "/rest/api/3/issue") == 1
    assert len(sandbox.issues()) == 1


def test_screen_change_after_caching_degrades_and_retries_once(
    make_provider: Make, sandbox: Any
) -> None:
    provider = make_provider()
    provider.create_ticket(draft(), idempotency_key="k1")
    sandbox.remove_field_from_screen("SEC", "Task", "priority")
    ticket = provider.create_ticket(draft(), idempotency_key="k2")
    assert isinstance(ticket, JiraCreatedTicket)
    assert ticket.dropped_fields == ("priority",)
    assert ticket.drop_reasons[0].reason.startswith("Jira refused it: ")
    assert calls(sandbox, "POST", "/rest/api/3/issue") == 3  # k1, k2 refused, k2 again
    assert len(sandbox.issues()) == 2
    # The stale screen was forgotten: the next create fetches it again and skips priority.
    provider.create_ticket(draft(), idempotency_key="k3")
    assert calls(sandbox, "GET", "/rest/api/3/issue/createmeta/SEC/issuetypes/10001") == 2
    assert calls(sandbox, "POST", "/rest/api/3/issue") == 4


def test_labels_off_screen_is_reported(make_provider: Make, sandbox: Any) -> None:
    sandbox.remove_field_from_screen("SEC", "Task", "labels")
    ticket = make_provider().create_ticket(draft(), idempotency_key="k")
    assert isinstance(ticket, JiraCreatedTicket)
    assert ticket.dropped_fields == ("labels",)
    assert "siq-k" in ticket.drop_reasons[0].reason
    # The property still identifies the issue.
    assert only_issue(sandbox)["properties"]["sentineliq"]["idempotency_key"] == "k"


def test_unknown_custom_field_is_explained(make_provider: Make) -> None:
    provider = make_provider(custom_fields={"Blast radius": "severity"})
    ticket = provider.create_ticket(draft(attributes={"severity": "high"}), idempotency_key="k")
    assert isinstance(ticket, JiraCreatedTicket)
    assert ticket.drop_reasons[0].field == "Blast radius"
    assert ticket.drop_reasons[0].reason == "Jira has no field with this id or name"


def test_issue_type_by_id(make_provider: Make, sandbox: Any) -> None:
    make_provider(issue_type="10003").create_ticket(draft(), idempotency_key="k")
    assert only_issue(sandbox)["fields"]["issuetype"]["name"] == "Incident"


def test_unknown_issue_type_is_a_config_error(make_provider: Make, sandbox: Any) -> None:
    with pytest.raises(ProviderError) as caught:
        make_provider(issue_type="Story").create_ticket(draft(), idempotency_key="k")
    assert caught.value.kind is ErrorKind.CONFIG
    assert "available: Task, Bug, Incident" in caught.value.message
    assert sandbox.issues() == []


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ({"mode": "drop_after_create", "count": 1}, ErrorKind.AMBIGUOUS),
        ({"mode": "error", "status": 503, "count": 1}, ErrorKind.UNAVAILABLE),
    ],
)
def test_create_failures_are_classified(
    make_provider: Make, sandbox: Any, fault: dict[str, Any], kind: ErrorKind
) -> None:
    provider = make_provider()
    provider.create_ticket(draft(), idempotency_key="warm")  # metadata cached: only the POST fails
    mode = fault.pop("mode")
    sandbox.set_fault(mode, **fault)
    with pytest.raises(ProviderError) as caught:
        provider.create_ticket(draft(), idempotency_key="k")
    assert caught.value.kind is kind


def test_read_timeout_on_create_is_ambiguous(make_provider: Make, sandbox: Any) -> None:
    provider = make_provider(timeout_s=1.0)
    # Only the POST is held back (the sandbox cuts the wait when it stops), so the metadata
    # reads before it are not racing the short timeout.
    sandbox.set_fault("slow", delay_s=60.0, count=1, method="POST", path="/rest/api/3/issue")
    with pytest.raises(ProviderError) as caught:
        provider.create_ticket(draft(), idempotency_key="k")
    assert caught.value.kind is ErrorKind.AMBIGUOUS
    assert len(sandbox.issues()) == 1  # processed at once, only the answer was late


def test_down_is_network(make_provider: Make, sandbox: Any) -> None:
    provider = make_provider()
    sandbox.set_fault("down")
    with pytest.raises(ProviderError) as caught:
        provider.create_ticket(draft(), idempotency_key="k")
    assert caught.value.kind is ErrorKind.NETWORK


def test_rate_limited_user_search_is_raised_not_swallowed(
    make_provider: Make, sandbox: Any
) -> None:
    provider = make_provider()
    provider.create_ticket(draft(), idempotency_key="warm")
    sandbox.set_rate_limit(0.01, burst=1)  # one request per 100 s
    provider.client.myself()  # spends it
    with pytest.raises(ProviderError) as caught:
        provider.create_ticket(draft(assignee_email=ANALYST_EMAIL), idempotency_key="k")
    # A transient lookup failure is raised for a retry, not turned into an unassigned ticket.
    assert caught.value.kind is ErrorKind.RATE_LIMITED
    assert caught.value.retry_after is not None
    assert calls(sandbox, "POST", "/rest/api/3/issue") == 1  # only the warm-up


# --- test_connection ----------------------------------------------------------------------------

NAMES = [
    "credentials",
    "site",
    "project",
    "issue type",
    "priority scheme",
    "required fields",
    "assignee lookup",
]


def test_connection_all_pass(make_provider: Make) -> None:
    report = make_provider().test_connection(assignee_email=ANALYST_EMAIL)
    assert [c.name for c in report.checks] == NAMES
    assert report.ok, report.checks
    details = {c.name: c.detail for c in report.checks}
    assert "Sandbox Admin" in details["credentials"]
    assert ANALYST_EMAIL in details["assignee lookup"]


def test_connection_without_assignee_checks_user_search(make_provider: Make) -> None:
    report = make_provider().test_connection()
    assert report.ok
    assert report.checks[-1].detail == "user search works"


def test_connection_wrong_token(make_provider: Make) -> None:
    report = make_provider(api_token="not-the-token").test_connection()
    assert [c.name for c in report.checks] == NAMES
    assert not report.ok
    first, *rest = report.checks
    assert first.detail.startswith(f"Jira rejected the credentials for {ADMIN_EMAIL}")
    assert all(not c.ok and c.detail.startswith("skipped: ") for c in rest)


def test_connection_wrong_project(make_provider: Make) -> None:
    report = make_provider(project_key="NOPE").test_connection()
    checks = {c.name: c for c in report.checks}
    assert checks["credentials"].ok
    assert not checks["project"].ok
    assert checks["project"].detail == (
        f"project NOPE not found or no Browse permission for {ADMIN_EMAIL}"
    )
    assert checks["issue type"].detail.startswith("skipped")


def test_connection_wrong_issue_type(make_provider: Make) -> None:
    report = make_provider(issue_type="Story").test_connection()
    checks = {c.name: c for c in report.checks}
    assert not checks["issue type"].ok
    assert "'Story'" in checks["issue type"].detail
    assert "available: Task, Bug, Incident" in checks["issue type"].detail
    assert not checks["priority scheme"].ok
    assert checks["assignee lookup"].ok  # independent of the issue type


def test_connection_missing_priorities_are_named(make_provider: Make) -> None:
    report = make_provider(priority_map={"urgent": "Blocker"}).test_connection()
    check = report.checks[4]
    assert (check.name, check.ok) == ("priority scheme", False)
    assert "Blocker (for urgent)" in check.detail


def test_connection_unknown_assignee(make_provider: Make) -> None:
    report = make_provider().test_connection(assignee_email="ghost@sentineliq.test")
    check = report.checks[-1]
    assert not check.ok
    assert "ghost@sentineliq.test" in check.detail


def test_connection_without_browse_users_permission(make_provider: Make, sandbox: Any) -> None:
    sandbox.add_user(
        "nobrowse@sentineliq.test", "No Browse", api_token="nb-token", can_browse_users=False
    )
    report = make_provider(email="nobrowse@sentineliq.test", api_token="nb-token").test_connection()
    check = report.checks[-1]
    assert not check.ok
    assert "Browse users and groups" in check.detail


def test_connection_readonly_account(make_provider: Make) -> None:
    report = make_provider(email=READONLY_EMAIL, api_token=READONLY_TOKEN).test_connection()
    assert report.checks[0].ok
    check = report.checks[3]
    assert (check.name, check.ok) == ("issue type", False)
    assert "Create issues permission" in check.detail


def test_connection_never_raises_when_jira_is_down(make_provider: Make, sandbox: Any) -> None:
    provider = make_provider()
    sandbox.set_fault("down")
    report = provider.test_connection()
    assert [c.name for c in report.checks] == NAMES
    assert "nothing was sent" in report.checks[0].detail


def test_token_never_in_logs_or_errors(
    make_provider: Make, sandbox: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = make_provider(api_token="bad-secret-token")
    good = make_provider()
    texts = [str(bad.test_connection()), repr(bad), repr(good), repr(good.config)]
    with pytest.raises(ProviderError) as refused:
        bad.create_ticket(draft(), idempotency_key="k1")
    texts.append(f"{refused.value}{refused.value!r}")
    good.create_ticket(draft(), idempotency_key="warm")
    for fault in ({"mode": "error", "status": 400}, {"mode": "drop_after_create"}):
        mode = fault.pop("mode")
        sandbox.set_fault(mode, count=1, **fault)
        with pytest.raises(ProviderError) as caught:
            good.create_ticket(draft(), idempotency_key="k2")
        texts.append(f"{caught.value}{caught.value!r}")
    joined = caplog.text + "".join(texts)
    assert caplog.records
    basic = base64.b64encode(f"{ADMIN_EMAIL}:{ADMIN_TOKEN}".encode()).decode()
    for secret in (ADMIN_TOKEN, "bad-secret-token", basic):
        assert secret not in joined
