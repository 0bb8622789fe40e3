"""Static field values: configuration rules and shaping by each schema kind (pure, no I/O);
gateway and site URLs in the configuration."""

from __future__ import annotations

import re
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from sentineliq.document.schema import adf_schema
from sentineliq.providers.jira.config import JiraConfig, format_config_errors
from sentineliq.providers.jira.fieldvalues import (
    StaticValues,
    resolve_static,
    shape_static,
    unfilled_required,
    user_emails,
)
from sentineliq.providers.jira.mapping import CreateScreen, FieldMeta, IssueTypeMeta

CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
CLOUD = "0d5a0c6f-1111-4222-8333-944444444444"


def data(**overrides: Any) -> dict[str, Any]:
    return {
        "base_url": "https://8.8.8.8",
        "email": "bot@example.com",
        "api_token": "tok",
        "project_key": "SEC",
        **overrides,
    }


def errors_of(payload: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        JiraConfig.parse(payload)
    return format_config_errors(caught.value)


def field(
    field_id: str,
    name: str,
    schema: dict[str, Any],
    *,
    required: bool = False,
    default: bool = False,
    allowed: list[dict[str, Any]] | None = None,
) -> FieldMeta:
    raw: dict[str, Any] = {
        "fieldId": field_id,
        "name": name,
        "required": required,
        "hasDefaultValue": default,
        "schema": schema,
    }
    if allowed is not None:
        raw["allowedValues"] = allowed
    return FieldMeta.from_createmeta(raw)


TEAM = field(
    "customfield_10060",
    "Team",
    {"type": "option", "custom": CF + "select", "customId": 10060},
    required=True,
    allowed=[{"id": "10100", "value": "Blue Team"}, {"id": "10101", "value": "Red Team"}],
)
SYSTEMS = field(
    "customfield_10061",
    "Affected systems",
    {"type": "array", "items": "option", "custom": CF + "multiselect"},
    allowed=[{"id": "1", "value": "Endpoints"}, {"id": "2", "value": "Cloud, hybrid"}],
)
COMPONENTS = field(
    "components",
    "Components",
    {"type": "array", "items": "component", "system": "components"},
    required=True,
    allowed=[{"id": "10200", "name": "Detection"}, {"id": "10201", "name": "Response"}],
)
VERSIONS = field("fixVersions", "Fix versions", {"type": "array", "items": "version"})
USER = field("customfield_10070", "Approver", {"type": "user", "custom": CF + "userpicker"})
USERS = field("customfield_10071", "Watchers", {"type": "array", "items": "user"})
NUMBER = field("customfield_10050", "Threat score", {"type": "number", "custom": CF + "float"})
DATE = field("customfield_10072", "Review by", {"type": "date", "custom": CF + "datepicker"})
TEXT = field("customfield_10051", "Alert source", {"type": "string", "custom": CF + "textfield"})
AREA = field("customfield_10052", "Notes", {"type": "string", "custom": CF + "textarea"})
LABELS = field(
    "customfield_10073", "Tags", {"type": "array", "items": "string", "custom": CF + "labels"}
)
CASCADE = field("customfield_10074", "Region", {"type": "option-with-child"}, required=True)
ACCOUNTS = {"ana@example.com": "712020:ana", "gone@example.com": None}


def screen(*metas: FieldMeta) -> CreateScreen:
    base = [
        {"fieldId": "summary", "name": "Summary", "required": True, "schema": {"type": "string"}},
        {"fieldId": "project", "name": "Project", "required": True, "schema": {"type": "project"}},
        {"fieldId": "issuetype", "name": "Issue Type", "required": True, "schema": {}},
        {"fieldId": "reporter", "name": "Reporter", "required": True, "hasDefaultValue": True,
         "schema": {"type": "user", "system": "reporter"}},
    ]  # fmt: skip
    built = CreateScreen.build("SEC", IssueTypeMeta("10001", "Task"), base)
    return CreateScreen("SEC", built.issue_type, {**built.fields, **{m.field_id: m for m in metas}})


# --- shaping ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("meta", "raw", "shaped"),
    [
        (TEAM, "red team", {"value": "Red Team"}),
        (TEAM, "10100", {"value": "Blue Team"}),  # by option id
        (SYSTEMS, ["Endpoints", "Cloud, hybrid"], [{"value": "Endpoints"},
                                                   {"value": "Cloud, hybrid"}]),
        (SYSTEMS, "Cloud, hybrid", [{"value": "Cloud, hybrid"}]),  # one option with a comma
        (COMPONENTS, "Detection, response", [{"name": "Detection"}, {"name": "Response"}]),
        (VERSIONS, ["1.0", "2.0"], [{"name": "1.0"}, {"name": "2.0"}]),  # none listed: as given
        (USER, "ana@example.com", {"accountId": "712020:ana"}),
        (USER, "712020:given", {"accountId": "712020:given"}),
        (USERS, "ana@example.com", [{"accountId": "712020:ana"}]),
        (NUMBER, "42", 42),
        (NUMBER, 2.5, 2.5),
        (DATE, "2026-12-24", "2026-12-24"),
        (TEXT, "Managed SOC", "Managed SOC"),
        (LABELS, "soc team, tier 1", ["soc-team", "tier-1"]),
    ],
)  # fmt: skip
def test_shapes_by_schema(meta: FieldMeta, raw: Any, shaped: Any) -> None:
    assert shape_static(meta, raw, ACCOUNTS) == shaped


def test_textarea_is_adf() -> None:
    doc = shape_static(AREA, "line one\nline two", ACCOUNTS)
    jsonschema.Draft4Validator(adf_schema()).validate(doc)


@pytest.mark.parametrize(
    ("meta", "raw", "reason"),
    [
        (TEAM, "Green Team", "has no option 'Green Team' (allowed: Blue Team, Red Team)"),
        (TEAM, ["Blue Team", "Red Team"], "takes one option, not a list"),
        (COMPONENTS, "Frontend", "has no option 'Frontend' (allowed: Detection, Response)"),
        (USER, "gone@example.com", "no active Jira user with the email gone@example.com"),
        (NUMBER, "many", "is a number field and the value is not a number"),
        (DATE, "24/12/2026", "is a date field"),
        (CASCADE, "EU", "has type option-with-child, which SentinelIQ cannot fill"),
    ],
)
def test_unshapeable_values_say_why(meta: FieldMeta, raw: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(reason)}"):
        shape_static(meta, raw, ACCOUNTS)


def test_resolve_and_required_analysis() -> None:
    live = screen(TEAM, COMPONENTS, CASCADE, NUMBER, USER)
    config = JiraConfig.parse(
        data(
            field_values={
                "Team": "Blue Team", "Region": "EU", "Nope": "x", "Approver": "ana@example.com"
            },
            custom_fields={"Threat score": "threat_score"},
        )
    )  # fmt: skip
    assert user_emails(config, live) == ["ana@example.com"]
    static = resolve_static(config, live, ACCOUNTS)
    assert static.fields == {
        "customfield_10060": {"value": "Blue Team"},
        "customfield_10070": {"accountId": "712020:ana"},
    }
    problems = {p.ref: (p.required, p.describe()) for p in static.problems}
    assert problems["Nope"] == (False, "Nope: not on the create screen of SEC / Task")
    assert problems["Region"][0] is True
    missing = unfilled_required(config, live, static)
    # Components has no value; Region's value cannot be used; reporter is defaulted.
    assert [m.field_id for m in missing] == ["components", "customfield_10074"]
    natively = unfilled_required(config, live, StaticValues())
    assert [m.field_id for m in natively] == [
        "customfield_10060",
        "components",
        "customfield_10074",
    ]


# --- configuration ------------------------------------------------------------------------------


def test_field_values_accept_texts_numbers_and_lists() -> None:
    config = JiraConfig.parse(
        data(field_values={" Team ": " Blue Team ", "customfield_10050": 3, "Tags": ["a", "b"]})
    )
    assert config.field_values == {"Team": "Blue Team", "customfield_10050": 3, "Tags": ["a", "b"]}
    assert config.masked()["field_values"] == config.field_values


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"Team": ""}, "field_values: 'Team' must not be empty"),
        ({"Team": []}, "field_values: 'Team' must not be an empty list"),
        ({"Team": True}, "field_values: 'Team' must be a text, a number or a list of texts"),
        ({"Team": {"value": "x"}}, "field_values: 'Team' must be a text, a number or a list"),
        ({"Team": "x" * 1001}, "field_values: 'Team' is too long (at most 1000 characters)"),
        ({"summary": "x"}, "field_values: 'summary' is filled by SentinelIQ from each alert"),
        ({"customfield_x": "x"}, "field_values: 'customfield_x' is not a Jira field id"),
    ],
)
def test_field_value_errors_name_the_field(values: dict[str, Any], message: str) -> None:
    (line,) = errors_of(data(field_values=values))
    assert line.startswith(message)


def test_a_field_both_mapped_and_static_is_refused() -> None:
    (line,) = errors_of(data(custom_fields={"Team": "source"}, field_values={"team": "Blue Team"}))
    assert (
        line
        == "field_values: 'team' is also mapped to an alert attribute in custom_fields; keep one"
    )


def test_gateway_base_url_needs_no_dns_and_a_cloud_id() -> None:
    config = JiraConfig.parse(data(base_url=f"https://API.atlassian.com/ex/jira/{CLOUD}/"))
    assert config.base_url == f"https://api.atlassian.com/ex/jira/{CLOUD}"
    assert config.is_gateway
    assert config.site_url is None
    assert not JiraConfig.parse(data()).is_gateway
    (line,) = errors_of(data(base_url="https://api.atlassian.com/ex/jira/not-a-uuid"))
    assert line.startswith(
        "base_url: on api.atlassian.com must be https://api.atlassian.com/ex/jira/"
    )
    (line,) = errors_of(data(base_url="https://api.atlassian.com"))
    assert "cloud id" in line


def test_site_url() -> None:
    config = JiraConfig.parse(
        data(base_url=f"https://api.atlassian.com/ex/jira/{CLOUD}", site_url="https://8.8.4.4/")
    )
    assert config.site_url == "https://8.8.4.4"
    assert JiraConfig.parse(data(site_url="")).site_url is None
    assert errors_of(data(site_url="https://8.8.4.4/jira")) == [
        "site_url: must be the site's address only, e.g. https://your-site.atlassian.net"
    ]
    assert errors_of(data(site_url=f"https://api.atlassian.com/ex/jira/{CLOUD}")) == [
        "site_url: must be the Jira site, e.g. https://your-site.atlassian.net, not the gateway"
    ]
    assert errors_of(data(site_url="http://8.8.4.4")) == ["site_url: must use https"]
