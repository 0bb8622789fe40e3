"""TicketDraft -> Jira fields: the pure decisions (the sandbox tests cover the wire)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentineliq.document.model import Document, Paragraph, Text
from sentineliq.document.schema import adf_schema
from sentineliq.providers.base import ErrorKind, ProviderError
from sentineliq.providers.jira.config import JiraConfig
from sentineliq.providers.jira.mapping import (
    AssigneeLookup,
    CreateScreen,
    FieldMeta,
    IssueTypeMeta,
    build_request,
    idempotency_label,
    resolve_issue_type,
    sanitize_label,
    sanitize_labels,
    shape_value,
    summary_of,
    utf16_len,
)
from sentineliq.tickets.draft import Priority, TicketDraft

CF = "com.atlassian.jira.plugin.system.customfieldtypes:"
PRIORITIES = [
    {"id": str(i), "name": n} for i, n in enumerate(["Highest", "High", "Medium", "Low"], 1)
]
TASK = IssueTypeMeta("10001", "Task")


def meta(field_id: str, name: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"fieldId": field_id, "key": field_id, "name": name, "schema": schema, **extra}


FULL_SCREEN = [
    meta("summary", "Summary", {"type": "string", "system": "summary"}, required=True),
    meta("description", "Description", {"type": "string", "system": "description"}),
    meta("project", "Project", {"type": "project", "system": "project"}, required=True),
    meta("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}),
    meta("priority", "Priority", {"type": "priority"}, allowedValues=PRIORITIES),
    meta("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}),
    meta("assignee", "Assignee", {"type": "user", "system": "assignee"}),
    meta("duedate", "Due date", {"type": "date", "system": "duedate"}),
    meta("customfield_10050", "Threat score", {"type": "number", "custom": CF + "float"}),
    meta("customfield_10051", "Alert source", {"type": "string", "custom": CF + "textfield"}),
    meta("customfield_10052", "Analyst notes", {"type": "string", "custom": CF + "textarea"}),
    meta(
        "customfield_10060",
        "Severity",
        {"type": "option", "custom": CF + "select"},
        allowedValues=[{"id": "1", "value": "High"}, {"id": "2", "value": "Low"}],
    ),
    meta("customfield_10061", "Detected", {"type": "datetime", "custom": CF + "datetime"}),
    meta("customfield_10062", "Seen on", {"type": "date", "custom": CF + "datepicker"}),
    meta(
        "customfield_10063",
        "Techniques",
        {"type": "array", "items": "string", "custom": CF + "labels"},
    ),
    meta("customfield_10064", "Watchers", {"type": "array", "items": "user"}),
]


def screen(raw: list[dict[str, Any]] = FULL_SCREEN, *, without: tuple[str, ...] = ()) -> Any:
    return CreateScreen.build("SEC", TASK, [f for f in raw if f["fieldId"] not in without])


def config(**overrides: Any) -> JiraConfig:
    data: dict[str, Any] = {
        "base_url": "https://8.8.8.8",
        "email": "sandbox@sentineliq.test",
        "api_token": "t",
        "project_key": "SEC",
    }
    data.update(overrides)
    return JiraConfig.parse(data)


def draft(**overrides: Any) -> TicketDraft:
    values: dict[str, Any] = {
        "summary": "Suspicious login",
        "document": Document((Paragraph((Text("Body"),)),)),
        "priority": Priority.HIGH,
    }
    values.update(overrides)
    return TicketDraft(**values)


def build(d: TicketDraft | None = None, *, cfg: JiraConfig | None = None, **kw: Any) -> Any:
    return build_request(
        d or draft(),
        config=cfg or config(),
        screen=kw.pop("scr", None) or screen(),
        idempotency_key=kw.pop("key", "d-42"),
        assignee=kw.pop("assignee", None),
    )


# --- summary ------------------------------------------------------------------------------------


def test_summary_is_one_line() -> None:
    assert (
        summary_of("  Brute\nforce\r\n\tfrom   10.0.0.1 \x00\x1b ") == "Brute force from 10.0.0.1"
    )


def test_summary_cut_at_254_plus_ellipsis() -> None:
    assert summary_of("a" * 255) == "a" * 255
    cut = summary_of("a" * 256)
    assert cut == "a" * 254 + "…"
    assert len(cut) == 255


def test_summary_counts_utf16_units() -> None:
    cut = summary_of("😀" * 200)  # each emoji is two UTF-16 units
    assert cut == "😀" * 127 + "…"
    assert utf16_len(cut) == 255


def test_empty_summary_gets_a_placeholder() -> None:
    assert summary_of(" \n\x00 ") == "Untitled alert"


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=600))
def test_summary_always_fits(text: str) -> None:
    result = summary_of(text)
    assert "\n" not in result
    assert "\r" not in result
    assert result == result.strip()
    assert 1 <= utf16_len(result) <= 255


# --- labels -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Severity: high", "Severity:-high"),
        ("src guardduty", "src-guardduty"),
        ("  padded\tlabel  ", "padded-label"),
        ('quote"s,and(brackets)', "quotesandbrackets"),
        ("T1059.001", "T1059.001"),
        ("crème brûlée", "crème-brûlée"),
        ("a -- b", "a-b"),
        (" \n ", None),
        ("!!!", None),
    ],
)
def test_label_sanitising(raw: str, expected: str | None) -> None:
    assert sanitize_label(raw) == expected


def test_labels_deduplicated_in_order_and_capped() -> None:
    assert sanitize_labels(["b", "A", "a", "b c", "b-c", "x" * 300]) == ["b", "A", "b-c", "x" * 255]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=300), max_size=8))
def test_labels_are_always_valid(raws: list[str]) -> None:
    labels = sanitize_labels(raws)
    assert len({label.casefold() for label in labels}) == len(labels)
    for label in labels:
        assert label
        assert not re.search(r"\s", label)
        assert utf16_len(label) <= 255
        assert not re.search(r"[\"',()\[\]{}<>]", label)


def test_idempotency_label() -> None:
    assert idempotency_label("d-42") == "siq-d-42"
    assert idempotency_label("siq-0123abcd") == "siq-0123abcd"
    assert idempotency_label("alert:7:jira") == "siq-alert:7:jira"
    hashed = idempotency_label("has space/and slash")
    assert re.fullmatch(r"siq-h-[0-9a-f]{40}", hashed)
    assert idempotency_label("has space/and slash") == hashed
    assert sanitize_label(hashed) == hashed


# --- request ------------------------------------------------------------------------------------


def test_full_request() -> None:
    d = draft(
        labels=("Severity: high", "edr", "EDR"),
        due_date=date(2027, 1, 31),
        link="https://console.example.test/alerts/1",
        attributes={"fingerprint": "fp-1"},
    )
    request = build(d, assignee=AssigneeLookup("acc-1"))
    fields = request.fields
    assert fields["project"] == {"key": "SEC"}
    assert fields["issuetype"] == {"id": "10001"}
    assert fields["summary"] == "Suspicious login"
    assert fields["priority"] == {"name": "High"}
    assert fields["labels"] == ["Severity:-high", "edr", "siq-d-42"]
    assert fields["assignee"] == {"accountId": "acc-1"}
    assert fields["duedate"] == "2027-01-31"
    jsonschema.Draft4Validator(adf_schema()).validate(fields["description"])
    assert request.properties == [
        {
            "key": "sentineliq",
            "value": {
                "idempotency_key": "d-42",
                "fingerprint": "fp-1",
                "link": "https://console.example.test/alerts/1",
            },
        }
    ]
    assert request.dropped == []
    assert set(request.body()) == {"fields", "properties"}


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        (Priority.LOW, "Low"),
        (Priority.MEDIUM, "Medium"),
        (Priority.HIGH, "High"),
        (Priority.CRITICAL, "Highest"),
        (Priority.URGENT, "Highest"),
    ],
)
def test_default_priority_map(priority: Priority, expected: str) -> None:
    assert build(draft(priority=priority)).fields["priority"] == {"name": expected}


def test_priority_override_and_case_insensitive_match() -> None:
    cfg = config(priority_map={"urgent": "high"})
    assert build(draft(priority=Priority.URGENT), cfg=cfg).fields["priority"] == {"name": "High"}


def test_priority_not_in_scheme_is_dropped_with_reason() -> None:
    cfg = config(priority_map={"low": "Lowest"})
    request = build(draft(priority=Priority.LOW), cfg=cfg)
    assert "priority" not in request.fields
    (dropped,) = request.dropped
    assert dropped.field == "priority"
    assert "'Lowest'" in dropped.reason
    assert "available: Highest, High, Medium, Low" in dropped.reason


def test_fields_missing_from_the_screen_are_dropped() -> None:
    request = build(
        draft(due_date=date(2027, 1, 1)),
        scr=screen(without=("priority", "labels", "duedate", "assignee")),
        assignee=AssigneeLookup("acc-1"),
    )
    assert {"priority", "labels", "duedate", "assignee"}.isdisjoint(request.fields)
    reasons = {d.field: d.reason for d in request.dropped}
    assert set(reasons) == {"priority", "labels", "duedate", "assignee"}
    assert "siq-d-42" in reasons["labels"]  # the lost idempotency label is called out
    assert all(d.not_on_screen for d in request.dropped)


def test_unknown_assignee_is_dropped_with_the_lookup_reason() -> None:
    request = build(assignee=AssigneeLookup(None, "no active Jira user with the email x"))
    assert "assignee" not in request.fields
    assert [(d.field, d.reason) for d in request.dropped] == [
        ("assignee", "no active Jira user with the email x")
    ]


def test_custom_fields_by_id_and_name_shaped_by_schema() -> None:
    cfg = config(
        custom_fields={
            "customfield_10050": "threat_score",
            "alert source": "source",
            "Analyst notes": "category",
            "Severity": "severity",
            "Detected": "detected_at",
            "Seen on": "detected_at",
            "Techniques": "mitre",
        }
    )
    d = draft(
        attributes={
            "threat_score": 87,
            "source": "CrowdStrike\nFalcon",
            "category": "line one\nline two",
            "severity": "high",
            "detected_at": "2026-11-27T08:00:00.250+01:00",
            "mitre": ["T1059.001", "T1566"],
        }
    )
    fields = build(d, cfg=cfg).fields
    assert fields["customfield_10050"] == 87
    assert fields["customfield_10051"] == "CrowdStrike Falcon"
    notes = fields["customfield_10052"]
    jsonschema.Draft4Validator(adf_schema()).validate(notes)
    assert notes["type"] == "doc"
    assert fields["customfield_10060"] == {"value": "High"}
    assert fields["customfield_10061"] == "2026-11-27T08:00:00.250+0100"
    assert fields["customfield_10062"] == "2026-11-27"
    assert fields["customfield_10063"] == ["T1059.001", "T1566"]


def test_custom_field_problems_are_dropped_not_fatal() -> None:
    cfg = config(
        custom_fields={
            "customfield_10050": "source",  # text into a number field
            "Severity": "category",  # not an option
            "Watchers": "title",  # unsupported type
            "customfield_99999": "severity",  # not on the screen
            "Labels": "source",  # a field SentinelIQ manages itself
            "Alert source": "external_id",  # attribute absent: nothing to drop
        }
    )
    d = draft(attributes={"source": "edr", "category": "malware", "title": "t", "severity": "low"})
    request = build(d, cfg=cfg)
    reasons = {d.field: d.reason for d in request.dropped}
    assert reasons == {
        "customfield_10050": "Threat score is a number field and the value is not a number",
        "customfield_10060": "Severity has no option 'malware' (options: High, Low)",
        "customfield_10064": "Watchers has type array of user, which alert attributes cannot fill",
        "customfield_99999": "not on the create screen of SEC / Task",
        "Labels": "is set by SentinelIQ itself and cannot take an alert attribute",
    }
    assert request.fields["labels"] == ["siq-d-42"]
    assert "customfield_10051" not in request.fields


@pytest.mark.parametrize(
    ("schema", "value", "expected"),
    [
        ({"type": "number"}, "42.5", 42.5),
        ({"type": "number"}, "7", 7),
        ({"type": "number"}, 3.25, 3.25),
        ({"type": "string"}, ["a", "b"], "a, b"),
        ({"type": "string"}, 12, "12"),
        ({"type": "string"}, "x" * 300, "x" * 254 + "…"),
        ({"type": "date"}, "2026-11-27", "2026-11-27"),
        ({"type": "datetime"}, "2026-11-27T08:00:00Z", "2026-11-27T08:00:00.000+0000"),
        ({"type": "array", "items": "string"}, "one", ["one"]),
    ],
)
def test_shape_value(schema: dict[str, Any], value: Any, expected: Any) -> None:
    assert shape_value(FieldMeta.from_createmeta(meta("f", "F", schema)), value) == expected


def test_issue_type_resolution() -> None:
    types = [TASK, IssueTypeMeta("10002", "Bug"), IssueTypeMeta("10009", "Sub-task", True)]
    assert resolve_issue_type("task", types, "SEC") == TASK
    assert resolve_issue_type("10002", types, "SEC").name == "Bug"
    with pytest.raises(ProviderError) as missing:
        resolve_issue_type("Story", types, "SEC")
    assert missing.value.kind is ErrorKind.CONFIG
    assert "available: Task, Bug)" in missing.value.message
    with pytest.raises(ProviderError, match="sub-task"):
        resolve_issue_type("Sub-task", types, "SEC")
