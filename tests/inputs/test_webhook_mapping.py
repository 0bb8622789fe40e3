"""The generic webhook's declarative mappings: validation on save (errors name the field), each
preset on its tool's published payload shape (fixtures/README.md), and what a record becomes,
is refused for, or ignores."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from sentineliq.alerts.model import ObservableType, Severity
from sentineliq.inputs.base import InputError
from sentineliq.inputs.presets import ELASTIC, ELASTIC_BODY, PRESETS, SPLUNK, WAZUH
from sentineliq.inputs.webhook import WebhookAdapter, WebhookMapping
from sentineliq.services.mappings import MappingError, check_name, dry_run, parse_mapping

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return loaded


def mapping(**fields: Any) -> WebhookMapping:
    return WebhookMapping.model_validate(
        {"fields": {"title": "name", "fingerprint": "id", **fields.pop("fields", {})}, **fields}
    )


def adapt(payload: object, used: WebhookMapping, name: str = "test") -> Any:
    return WebhookAdapter(name).adapt(payload, used)


# --- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ({"fields": {"fingerprint": "id"}}, "fields.title", "Field required"),
        ({"fields": {"title": "name"}}, "fields.fingerprint", "Field required"),
        (
            {"fields": {"title": "name", "fingerprint": "id", "severity": "result.[sev"}},
            "fields.severity",
            "not a JMESPath expression",
        ),
        (
            {"fields": {"title": "name", "fingerprint": "id"}, "observables": {"ip": "a |"}},
            "observables.ip",
            "not a JMESPath expression",
        ),
        (
            {"fields": {"title": "name", "fingerprint": "id"}, "observables": {"ipv9": "a"}},
            "observables.ipv9",
            "",
        ),
        (
            {"fields": {"title": "name", "fingerprint": "id"}, "severity_map": {"5": "urgent"}},
            "severity_map.5",
            "",
        ),
        ({"fields": {"title": "name", "fingerprint": "id", "colour": "x"}}, "fields.colour", ""),
        ({"fields": {"title": " ", "fingerprint": "id"}}, "fields.title", ""),
        ({"fields": {"title": "name", "fingerprint": "id"}, "records": "[["}, "records", ""),
    ],
)
def test_a_mapping_is_checked_when_saved_and_the_error_names_the_field(
    body: dict[str, Any], field: str, says: str
) -> None:
    with pytest.raises(MappingError) as refused:
        parse_mapping(body)
    assert refused.value.field == field
    assert says in refused.value.problem


@pytest.mark.parametrize("name", ["alertmanager", "ocsf", "webhook", "dry-run", "Splunk", "-a", ""])
def test_built_in_input_names_and_non_slugs_are_refused(name: str) -> None:
    with pytest.raises(MappingError) as refused:
        check_name(name)
    assert refused.value.field == "name"


def test_a_preset_name_and_slugs_may_be_saved() -> None:
    assert check_name("splunk") == "splunk"
    assert check_name("splunk-prod-2") == "splunk-prod-2"


def test_presets_validate_and_round_trip_as_json() -> None:
    for preset in PRESETS.values():
        again = WebhookMapping.model_validate_json(preset.model_dump_json())
        assert again == preset


# --- the presets on their tools' payloads ------------------------------------------------------


def test_splunk_preset_on_splunks_documented_body() -> None:
    result = adapt(fixture("splunk_webhook.json"), SPLUNK, "splunk")
    assert result.errors == []
    (record,) = result.accepted
    alert = record.alert
    # search_name is null in Splunk's example: the sid names the alert.
    assert alert.title == "Splunk search scheduler_admin_search_W2_at_14232356_132"
    assert alert.source == "Splunk"
    assert alert.external_id == "scheduler_admin_search_W2_at_14232356_132"
    assert alert.fingerprint is not None
    assert alert.fingerprint.startswith("splunk:sha256:")
    assert str(alert.link) == (
        "http://web.example.local:8000/app/search/@go?sid=scheduler_admin_search_W2_at_14232356_132"
    )
    assert alert.description == "sourcetype: mongod\ncount: 8"
    assert alert.tags == ["app=search", "owner=admin"]
    assert alert.severity is Severity.MEDIUM
    fields = {w.field for w in record.warnings}
    # No severity and no _time in the row: the default and the time received, each said.
    assert fields == {"result.severity || result.urgency", "result._time"}
    assert record.raw == fixture("splunk_webhook.json")


def test_splunk_preset_on_a_detection_row() -> None:
    (record,) = adapt(fixture("splunk_webhook_detection.json"), SPLUNK, "splunk").accepted
    alert = record.alert
    assert alert.title == "Brute force against a domain controller"
    assert alert.severity is Severity.HIGH
    assert alert.detected_at.isoformat() == "2026-12-04T05:41:07+00:00"
    assert alert.mitre == ["T1110.001", "T1078"]
    assert alert.affected_assets == ["dc-01.corp.example"]
    assert [(o.type, o.value) for o in alert.observables] == [(ObservableType.IP, "203.0.113.45")]
    assert record.warnings == ()


def test_elastic_preset_on_the_documented_connector_body() -> None:
    (record,) = adapt(fixture("elastic_webhook.json"), ELASTIC, "elastic").accepted
    alert = record.alert
    assert alert.title == "rule 'esq' matched query for group host-2"
    assert alert.fingerprint == "elastic:0b6cd6a4-7f8e-4f43-9c55-3a1f4c2a8d17"
    assert alert.description.startswith("Document count is 1002")
    assert str(alert.link).startswith("https://kibana.corp.example:5601/app/discover#/viewAlert/")
    assert alert.detected_at.isoformat() == "2023-04-27T22:40:34.153000+00:00"
    assert alert.tags == ["soc", "auth"]
    assert alert.category == "esq"
    assert alert.affected_assets == ["host-2"]
    assert [o.value for o in alert.observables] == ["198.51.100.23"]
    assert not record.resolved


def test_elastic_recovered_action_group_resolves() -> None:
    payload = fixture("elastic_webhook.json")
    payload["alert"]["actionGroup"] = "recovered"
    (record,) = adapt(payload, ELASTIC, "elastic").accepted
    assert record.resolved


def test_elastic_security_rule_context_gives_severity_and_attack() -> None:
    payload = fixture("elastic_webhook.json")
    payload["context"] = {
        "rule": {
            "name": "Potential SSH Brute Force",
            "severity": "high",
            "threat": [
                {"tactic": {"id": "TA0006"}, "technique": [{"id": "T1110"}]},
            ],
        },
        "results_link": "https://kibana.corp.example:5601/app/security/alerts",
        "alerts": [{"host": {"name": "bastion-1"}, "source": {"ip": "192.0.2.9"}}],
    }
    (record,) = adapt(payload, ELASTIC, "elastic").accepted
    alert = record.alert
    assert alert.title == "Potential SSH Brute Force"
    assert alert.severity is Severity.HIGH
    assert alert.mitre == ["T1110", "TA0006"]
    assert alert.affected_assets == ["bastion-1"]
    assert str(alert.link) == "https://kibana.corp.example:5601/app/security/alerts"


def test_wazuh_preset_on_a_wazuh_alert() -> None:
    (record,) = adapt(fixture("wazuh_alert.json"), WAZUH, "wazuh").accepted
    alert = record.alert
    assert alert.title.startswith("sshd: brute force")
    assert alert.severity is Severity.HIGH  # rule.level 10
    assert alert.fingerprint == "wazuh:1796361164.1548213"
    assert alert.detected_at.isoformat() == "2026-12-04T05:12:44.316000+00:00"
    assert alert.mitre == ["T1110"]
    assert [o.value for o in alert.observables] == ["192.0.2.77"]
    assert alert.affected_assets == ["web-01", "10.0.4.21"]


# --- records -----------------------------------------------------------------------------------


def test_unknown_fields_are_ignored() -> None:
    payload = fixture("splunk_webhook_detection.json")
    payload["x_vendor"] = {"anything": [1, 2, {"deep": None}]}
    payload["result"]["new_column"] = "42"
    (record,) = adapt(payload, SPLUNK, "splunk").accepted
    assert record.alert.title == "Brute force against a domain controller"
    assert record.raw["x_vendor"] == payload["x_vendor"]  # kept with the alert all the same


def test_a_missing_essential_field_refuses_that_record_naming_the_expression() -> None:
    used = mapping(fields={"severity": "level"})
    result = adapt([{"id": "a1", "name": "first"}, {"id": "a2"}, {"name": "third"}], used)
    assert [r.alert.title for r in result.accepted] == ["first"]
    assert [(e.record, e.field) for e in result.errors] == [(2, "name"), (3, "id")]
    assert "the title is required" in result.errors[0].problem
    assert "the fingerprint is required" in result.errors[1].problem


def test_an_expression_that_fails_on_the_data_refuses_naming_it() -> None:
    used = mapping(fields={"description": "join(', ', tags)"})
    result = adapt({"id": "1", "name": "n", "tags": [1, 2]}, used)
    (error,) = result.errors
    assert error.field == "join(', ', tags)"
    assert "description" in error.problem


def test_a_non_object_record_and_an_empty_array() -> None:
    result = adapt([{"id": "1", "name": "n"}, "text"], mapping())
    assert [(e.record, e.problem) for e in result.errors] == [(2, "must be a JSON object")]
    with pytest.raises(InputError):
        adapt([], mapping())


def test_records_splits_one_payload_into_alerts() -> None:
    used = mapping(records="events", fields={"severity": "sev"})
    result = adapt(
        {"batch": 7, "events": [{"id": "1", "name": "a"}, {"id": "2", "name": "b"}]}, used
    )
    assert [r.alert.title for r in result.accepted] == ["a", "b"]
    assert result.accepted[1].raw == {"id": "2", "name": "b"}
    with pytest.raises(InputError) as unreadable:
        adapt({"events": []}, used)
    assert unreadable.value.field == "events"


def test_values_are_shaped_to_their_fields() -> None:
    used = mapping(
        fields={
            "detected_at": "ts",
            "tags": "labels",
            "severity": "level",
            "threat_score": "score",
            "status": "state",
            "link": "url",
        },
        observables={"domain": "domains", "hash_sha256": "hash"},
        severity_map={"4": "critical"},
        extra_tags=["from-scanner"],
    )
    payload = {
        "id": 1234,
        "name": ["Port", "scan"],
        "ts": 1796361164123,
        "labels": {"env": "prod", "team": None},
        "level": 4,
        "score": 87.4,
        "state": "CLOSED",
        "url": "javascript:alert(1)",
        "domains": ["a.example", ["b.example", None, ""], "a.example"],
        "hash": "not-a-hash",
    }
    result = adapt(payload, used)
    assert result.accepted == []  # a dangerous link refuses the record, naming the expression
    assert result.errors[0].field == "url"
    payload["url"] = "https://scanner.example/f/1234"
    (record,) = adapt(payload, used).accepted
    alert = record.alert
    assert alert.title == "Port scan"
    assert alert.fingerprint == "webhook:1234"
    assert alert.detected_at.isoformat() == "2026-12-04T05:12:44.123000+00:00"
    assert alert.tags == ["from-scanner", "env=prod"]
    assert alert.severity is Severity.CRITICAL
    assert alert.threat_score == 87
    assert record.resolved
    assert [(o.type.value, o.value) for o in alert.observables] == [
        ("domain", "a.example"),
        ("domain", "b.example"),
        ("other", "not-a-hash"),  # retyped with a warning, like a native alert
    ]
    assert any(w.field.startswith("observables") for w in record.warnings)


def test_severity_unknown_to_the_map_takes_our_names_then_the_default() -> None:
    used = mapping(fields={"severity": "level"}, default_severity="low")
    first, second = adapt(
        [{"id": 1, "name": "a", "level": "High"}, {"id": 2, "name": "b", "level": "P9"}], used
    ).accepted
    assert first.alert.severity is Severity.HIGH
    assert first.warnings == ()
    assert second.alert.severity is Severity.LOW
    assert second.warnings[0].field == "level"
    assert "'P9'" in second.warnings[0].message


def test_a_fingerprint_of_several_values_is_their_hash_and_stable() -> None:
    used = mapping(fields={"fingerprint": "[sid, row]"})
    one = adapt({"name": "n", "sid": "s1", "row": {"a": 1, "b": 2}}, used).accepted[0]
    same = adapt({"name": "n", "row": {"b": 2, "a": 1}, "sid": "s1"}, used).accepted[0]
    other = adapt({"name": "n", "sid": "s1", "row": {"a": 2}}, used).accepted[0]
    assert one.alert.fingerprint == same.alert.fingerprint != other.alert.fingerprint
    result = adapt({"name": "n", "sid": None, "row": None}, used)
    assert result.errors[0].field == "[sid, row]"


def test_a_dry_run_lists_each_record_in_order() -> None:
    used = mapping()
    run = dry_run(
        adapt([{"id": "1", "name": "a"}, {"id": "2"}, {"id": "3", "name": "c"}], used), "t"
    )
    shown = run.as_json()
    assert [(r["record"], r["status"]) for r in shown["records"]] == [
        (1, "accepted"),
        (2, "refused"),
        (3, "accepted"),
    ]
    assert shown["records"][1]["errors"][0]["field"] == "name"
    assert shown["records"][0]["alert"]["title"] == "a"


def test_the_adapter_leaves_its_inputs_alone() -> None:
    payload = fixture("splunk_webhook_detection.json")
    before = copy.deepcopy(payload)
    adapt(payload, SPLUNK, "splunk")
    assert payload == before


def _render(template: str, variables: dict[str, Any]) -> str:
    """Kibana's Mustache for the variables the body uses: {{{x}}} as JSON, {{x}} as text
    escaped for a JSON string, `.asJSON` of an array as JSON."""

    def value(path: str) -> Any:
        found: Any = variables
        for part in path.removesuffix(".asJSON").split("."):
            found = found[part]
        return found

    text = re.sub(r"\{\{\{([\w.]+)\}\}\}", lambda m: json.dumps(value(m.group(1))), template)
    return re.sub(r"\{\{([\w.]+)\}\}", lambda m: json.dumps(str(value(m.group(1))))[1:-1], text)


def test_the_documented_elastic_body_renders_to_the_fixture_the_preset_reads() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "inputs.md").read_text()
    assert ELASTIC_BODY in docs
    payload = fixture("elastic_webhook.json")
    assert json.loads(_render(ELASTIC_BODY, payload)) == payload
