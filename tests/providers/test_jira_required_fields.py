"""Required fields and static field values (issue 7 item 1), and scoped-token gateway URLs
(item 7): JiraProvider against the sandbox over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from jira_samples import ANALYST_EMAIL, RecordingTransport, calls
from openapi_schema_validator import OAS30Validator

from sentineliq.document.model import Document, Paragraph, Text
from sentineliq.document.schema import adf_schema
from sentineliq.providers.base import ErrorKind, ProviderError
from sentineliq.providers.jira.provider import JiraProvider
from sentineliq.sandbox.jira.model import account_id_for
from sentineliq.sandbox.jira.openapi import load_spec
from sentineliq.sandbox.jira.seed import AFFECTED_SYSTEMS_FIELD, TEAM_FIELD
from sentineliq.tickets.draft import Priority, TicketDraft

Make = Callable[..., JiraProvider]


def draft() -> TicketDraft:
    return TicketDraft(
        summary="Beaconing from a build server",
        document=Document((Paragraph((Text("Periodic HTTPS to a new domain."),)),)),
        priority=Priority.HIGH,
        labels=("c2",),
        attributes={"fingerprint": "fp-1"},
    )


def checks(provider: JiraProvider) -> dict[str, Any]:
    return {c.name: c for c in provider.test_connection().checks}


def test_connection_names_a_required_field_with_its_allowed_values(
    make_provider: Make, sandbox: Any
) -> None:
    sandbox.require_field("SEC", TEAM_FIELD)
    provider = make_provider()
    report = provider.test_connection()
    assert not report.ok
    check = {c.name: c for c in report.checks}["required fields"]
    assert not check.ok
    assert "Team (customfield_10060)" in check.detail
    assert "allowed: Blue Team, Red Team" in check.detail
    assert "--field" in check.detail  # says how to fix it
    # Every other check is green: before, the test passed and every create then failed.
    assert all(c.ok for c in report.checks if c.name != "required fields")
    assert [m.field_id for m in provider.required_fields] == [TEAM_FIELD]


def test_connection_passes_without_required_fields(make_provider: Make) -> None:
    check = checks(make_provider())["required fields"]
    assert check.ok
    assert check.detail == "every required field is filled"


def test_field_value_makes_the_check_pass_and_creates_succeed(
    make_provider: Make, sandbox: Any, recorder: RecordingTransport
) -> None:
    sandbox.require_field("SEC", TEAM_FIELD)
    sandbox.require_field("SEC", AFFECTED_SYSTEMS_FIELD)
    sandbox.require_field("SEC", "components")
    provider = make_provider(
        transport=recorder,
        field_values={
            "Team": "blue team",  # matched case-insensitively, sent as Jira spells it
            "Affected systems": ["Endpoints", "Cloud"],
            "components": "Detection, Response",
        },
    )
    report = provider.test_connection()
    assert report.ok, report.checks
    detail = {c.name: c.detail for c in report.checks}["required fields"]
    assert "set statically: Team, Affected systems, Components" in detail
    ticket = provider.create_ticket(draft(), idempotency_key="k1")
    (issue,) = sandbox.issues()
    assert issue["key"] == ticket.key
    assert issue["fields"][TEAM_FIELD] == {"id": "10100", "value": "Blue Team"}
    assert [o["value"] for o in issue["fields"][AFFECTED_SYSTEMS_FIELD]] == ["Endpoints", "Cloud"]
    assert [c["name"] for c in issue["fields"]["components"]] == ["Detection", "Response"]
    (body,) = [b for m, p, b in recorder.sent if m == "POST" and p == "/rest/api/3/issue"]
    assert body["fields"][TEAM_FIELD] == {"value": "Blue Team"}
    assert body["fields"]["components"] == [{"name": "Detection"}, {"name": "Response"}]
    spec = load_spec()
    schema = spec["paths"]["/rest/api/3/issue"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    OAS30Validator({**schema, "components": spec["components"]}).validate(body)


def test_static_values_of_every_kind_on_the_wire(
    make_provider: Make, sandbox: Any, recorder: RecordingTransport
) -> None:
    provider = make_provider(
        transport=recorder,
        field_values={
            "Threat score": "42.5",
            "Alert source": "Managed SOC",
            "Analyst notes": "Escalate to\nthe on-call lead",
            "reporter": ANALYST_EMAIL,
            "duedate": "2026-12-24",
            "labels": ["soc team", "tier-1"],
        },
    )
    assert checks(provider)["required fields"].ok
    provider.create_ticket(draft(), idempotency_key="k2")
    (body,) = [b for m, p, b in recorder.sent if m == "POST" and p == "/rest/api/3/issue"]
    fields = body["fields"]
    assert fields["customfield_10050"] == 42.5
    assert fields["customfield_10051"] == "Managed SOC"
    jsonschema.Draft4Validator(adf_schema()).validate(fields["customfield_10052"])
    assert fields["reporter"] == {"accountId": account_id_for(ANALYST_EMAIL)}
    assert fields["duedate"] == "2026-12-24"
    assert fields["labels"][:3] == ["c2", "soc-team", "tier-1"]
    (issue,) = sandbox.issues()
    assert issue["fields"]["reporter"]["accountId"] == account_id_for(ANALYST_EMAIL)
    assert issue["fields"]["customfield_10050"] == 42.5


def test_a_value_the_screen_cannot_take_is_reported(make_provider: Make, sandbox: Any) -> None:
    sandbox.require_field("SEC", TEAM_FIELD)
    provider = make_provider(field_values={"Team": "Green Team", "Nope": "x"})
    check = checks(provider)["required fields"]
    assert not check.ok
    assert "Team (customfield_10060): has no option 'Green Team'" in check.detail
    assert "allowed: Blue Team, Red Team" in check.detail
    assert "Nope: not on the create screen of SEC / Task" in check.detail
    # At create time the unusable value of a required field pauses, before any POST.
    with pytest.raises(ProviderError) as caught:
        provider.create_ticket(draft(), idempotency_key="k3")
    assert caught.value.kind is ErrorKind.REQUIRED_FIELD
    assert caught.value.pauses_provider
    assert "Green Team" in caught.value.message
    assert calls(sandbox, "POST", "/rest/api/3/issue") == 0


def test_an_unknown_user_email_is_reported(make_provider: Make) -> None:
    provider = make_provider(field_values={"reporter": "ghost@sentineliq.test"})
    check = checks(provider)["required fields"]
    assert not check.ok
    assert "Reporter (reporter): no active Jira user with the email ghost@" in check.detail


def test_create_refused_for_a_required_field_is_required_field_not_validation(
    make_provider: Make, sandbox: Any
) -> None:
    provider = make_provider()
    provider.create_ticket(draft(), idempotency_key="warm")  # caches the screen without Team
    sandbox.require_field("SEC", TEAM_FIELD)
    with pytest.raises(ProviderError) as caught:
        provider.create_ticket(draft(), idempotency_key="k4")
    error = caught.value
    assert error.kind is ErrorKind.REQUIRED_FIELD
    assert error.pauses_provider
    assert error.field_errors == {TEAM_FIELD: "Team is required."}
    assert "Team (customfield_10060)" in error.message  # the fresh screen named it
    assert "field values" in error.message
    assert calls(sandbox, "POST", "/rest/api/3/issue") == 2  # warm-up + one refused, no retry


def test_jira_refusing_the_value_of_a_required_field_is_classified_required(
    make_provider: Make, sandbox: Any
) -> None:
    sandbox.require_field("SEC", TEAM_FIELD)
    provider = make_provider(field_values={"Team": "Blue Team"})
    screen = provider._screen()
    # Jira's answer when its options changed after the screen was read: not to be degraded away.
    refused = ProviderError(
        ErrorKind.VALIDATION,
        "Jira refused the request",
        status=400,
        field_errors={TEAM_FIELD: "Option value 'Blue Team' is not valid"},
    )
    found = provider._required_refusal(refused, screen)
    assert found is not None
    assert found.kind is ErrorKind.REQUIRED_FIELD
    optional = ProviderError(
        ErrorKind.VALIDATION, "refused", status=400, field_errors={"customfield_10051": "bad"}
    )
    assert provider._required_refusal(optional, screen) is None
    # Jira refusing SentinelIQ's own summary is this alert's problem, not a missing setting.
    summary = ProviderError(
        ErrorKind.VALIDATION, "refused", status=400, field_errors={"summary": "too long"}
    )
    assert provider._required_refusal(summary, screen) is None
    in_messages = ProviderError(
        ErrorKind.VALIDATION, "Jira refused the request: Field 'components' is required", status=400
    )
    found = provider._required_refusal(in_messages, screen)
    assert found is not None
    assert found.field_errors == {"components": "Field 'components' is required"}


def test_optional_refused_field_is_still_degraded(make_provider: Make, sandbox: Any) -> None:
    provider = make_provider(field_values={"Alert source": "SOC"})
    provider.create_ticket(draft(), idempotency_key="warm")
    sandbox.remove_field_from_screen("SEC", "Task", "customfield_10051")
    ticket = provider.create_ticket(draft(), idempotency_key="k6")
    assert "customfield_10051" in ticket.dropped_fields


# --- scoped tokens: the gateway URL -------------------------------------------------------------


def test_gateway_base_url_calls_the_gateway_and_links_to_the_site(
    make_provider: Make, sandbox: Any
) -> None:
    sandbox.set_gateway()
    provider = make_provider(base_url=sandbox.gateway_url)
    report = provider.test_connection()
    assert report.ok, report.checks
    site = {c.name: c.detail for c in report.checks}["site"]
    assert f"API base {sandbox.gateway_url} (the scoped-token gateway)" in site
    assert f"issue links use {sandbox.url} (from Jira's server info)" in site
    ticket = provider.create_ticket(draft(), idempotency_key="g1")
    assert ticket.url == f"{sandbox.url}/browse/{ticket.key}"
    rest = [r for r in sandbox.requests() if "/rest/" in r.path]
    assert rest
    assert all(r.path.startswith("/ex/jira/") for r in rest)
    found = provider.find_existing("g1")
    assert found is not None
    assert found.url == ticket.url


def test_gateway_with_a_configured_site_url(make_provider: Make, sandbox: Any) -> None:
    sandbox.set_gateway()
    provider = make_provider(base_url=sandbox.gateway_url, site_url="https://soc.atlassian.net")
    ticket = provider.create_ticket(draft(), idempotency_key="g2")
    assert ticket.url == f"https://soc.atlassian.net/browse/{ticket.key}"
    assert calls(sandbox, "GET", "/ex/jira/") >= 1
    assert not [r for r in sandbox.requests() if r.path.endswith("/serverInfo")]


def test_gateway_off_is_a_404(make_provider: Make, sandbox: Any) -> None:
    sandbox.set_gateway()
    url = sandbox.gateway_url
    sandbox.set_gateway(None)
    report = make_provider(base_url=url).test_connection()
    assert not report.ok
