"""The Alertmanager adapter on Alertmanager's documented webhook shape (fixtures/README.md):
what each alert of a group becomes, what is kept, what refuses one record, what is ignored."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from sentineliq.alerts.model import Module, Severity
from sentineliq.inputs.alertmanager import AlertmanagerAdapter, AlertmanagerSettings
from sentineliq.inputs.base import InputError
from sentineliq.inputs.registry import ADAPTERS, adapter
from sentineliq.web.api.inputs import ALERTMANAGER_EXAMPLE

FIXTURE = Path(__file__).parent / "fixtures" / "alertmanager_webhook.json"
ADAPTER = AlertmanagerAdapter()


def group() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(FIXTURE.read_text())
    return loaded


def test_it_is_registered_by_name() -> None:
    assert adapter("alertmanager") is ADAPTERS["alertmanager"]
    assert isinstance(adapter("alertmanager"), AlertmanagerAdapter)


def test_each_alert_of_the_group_becomes_one_alert_with_alertmanagers_identity() -> None:
    result = ADAPTER.adapt(group(), AlertmanagerSettings())
    assert result.errors == []
    first, second = result.accepted
    alert = first.alert
    assert alert.title == "Host high CPU load (instance web-1.example.org:9100)"
    assert alert.severity is Severity.CRITICAL
    assert alert.source == "alertmanager"
    assert alert.module is Module.AEGIS
    assert alert.fingerprint == "alertmanager:37913954405f8f02"
    assert alert.external_id == "37913954405f8f02"
    assert alert.detected_at.isoformat() == "2026-12-03T08:04:33.716000+00:00"
    assert str(alert.link) == (
        "http://prometheus.example.org:9090/graph?g0.expr=node_load1+%3E+0.8&g0.tab=1"
    )
    assert alert.tags == [
        "alertname=HostHighCpuLoad",
        "instance=web-1.example.org:9100",
        "job=node",
        "severity=critical",
    ]
    assert alert.affected_assets == ["web-1.example.org:9100"]
    assert alert.category == "HostHighCpuLoad"
    # The description, then the labels and the other annotations as facts.
    assert alert.description.startswith("CPU load is > 80%\n  VALUE = 93.4")
    assert "Labels\nalertname: HostHighCpuLoad\ninstance: web-1.example.org:9100" in (
        alert.description
    )
    assert "Annotations\nrunbook_url: https://runbooks.example.org/host/high-cpu" in (
        alert.description
    )
    assert first.resolved is False
    assert first.warnings == ()
    # Without a summary: the alert name on the instance; "warning" maps to medium.
    assert second.alert.title == "HostHighCpuLoad on db-2.example.org:9100"
    assert second.alert.severity is Severity.MEDIUM
    assert second.alert.fingerprint == "alertmanager:c6eadffa33fcdf37"


def test_the_original_is_kept_per_alert_as_a_notification_of_that_alert_alone() -> None:
    payload = group()
    first, second = ADAPTER.adapt(payload, AlertmanagerSettings()).accepted
    envelope = {key: value for key, value in payload.items() if key != "alerts"}
    assert first.raw == {**envelope, "alerts": [payload["alerts"][0]]}
    assert second.raw == {**envelope, "alerts": [payload["alerts"][1]]}


def test_resolved_alerts_say_so() -> None:
    payload = group()
    payload["status"] = "resolved"
    payload["alerts"][0]["status"] = "resolved"
    payload["alerts"][0]["endsAt"] = "2026-12-03T08:34:33.716Z"
    del payload["alerts"][1]["status"]  # falls back to the group's status
    first, second = ADAPTER.adapt(payload, AlertmanagerSettings()).accepted
    assert first.resolved
    assert second.resolved
    assert first.alert.fingerprint == "alertmanager:37913954405f8f02"


def test_unknown_fields_are_ignored_and_kept() -> None:
    payload = group()
    payload["orgId"] = 1  # Grafana's Alertmanager-compatible sender adds these
    payload["alerts"][0].update(
        silenceURL="https://grafana.example.org/alerting/silence/new", values={"B": 44.2}
    )
    payload["alerts"][0]["labels"]["replicas"] = 3  # a non-string label value: written out
    (first, _second), errors = (
        ADAPTER.adapt(payload, AlertmanagerSettings()).accepted,
        ADAPTER.adapt(payload, AlertmanagerSettings()).errors,
    )
    assert errors == []
    assert first.raw["orgId"] == 1
    assert first.raw["alerts"][0]["values"] == {"B": 44.2}
    assert "replicas=3" in first.alert.tags


def test_a_missing_essential_field_refuses_that_alert_only_naming_the_field() -> None:
    payload = group()
    del payload["alerts"][0]["fingerprint"]
    del payload["alerts"][0]["startsAt"]
    payload["alerts"][1]["labels"].pop("alertname")
    payload["alerts"].append(copy.deepcopy(group()["alerts"][1]))
    payload["alerts"].append("not an alert")
    result = ADAPTER.adapt(payload, AlertmanagerSettings())
    assert [(e.record, e.field) for e in result.errors] == [
        (1, "fingerprint"),
        (1, "startsAt"),
        (2, "labels.alertname"),
        (4, ""),
    ]
    assert "annotations.summary" in result.errors[2].problem
    assert [r.record for r in result.accepted] == [3]


def test_an_unreadable_time_or_link_is_named_as_alertmanager_names_it() -> None:
    payload = group()
    payload["alerts"][0]["startsAt"] = "yesterday"
    payload["alerts"][1]["generatorURL"] = "javascript:alert(1)"
    result = ADAPTER.adapt(payload, AlertmanagerSettings())
    assert {(e.record, e.field) for e in result.errors} == {(1, "startsAt"), (2, "generatorURL")}


def test_the_severity_map_is_the_workspaces() -> None:
    payload = group()
    del payload["alerts"][1]["labels"]["severity"]
    settings = AlertmanagerSettings.model_validate_json(
        json.dumps(
            {
                "severity_map": {"CRITICAL": "high"},
                "default_severity": "low",
                "module": "eclipse",
            }
        )
    )
    first, second = ADAPTER.adapt(payload, settings).accepted
    assert first.alert.severity is Severity.HIGH  # matched case-insensitively
    assert first.alert.module is Module.ECLIPSE
    assert second.alert.severity is Severity.LOW
    assert [(w.field, w.message) for w in second.warnings] == [
        ("labels.severity", "absent: the workspace's default severity low was used")
    ]
    payload["alerts"][1]["labels"]["severity"] = "disaster"
    _first, second = ADAPTER.adapt(payload, settings).accepted
    assert "'disaster' is not in the workspace's severity map" in second.warnings[0].message


def test_stored_settings_that_no_longer_validate_fall_back_to_the_defaults() -> None:
    assert ADAPTER.settings({"severity_map": {"x": "urgent"}}) == AlertmanagerSettings()
    assert ADAPTER.settings(None) == AlertmanagerSettings()
    assert ADAPTER.settings({"default_severity": "high"}).default_severity is Severity.HIGH


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], ""),
        ({"version": "3", "alerts": []}, "version"),
        ({"version": "4"}, "alerts"),
        ({"version": "4", "alerts": []}, "alerts"),
    ],
)
def test_a_body_that_is_no_notification_is_refused_whole(payload: object, field: str) -> None:
    with pytest.raises(InputError) as refused:
        ADAPTER.adapt(payload, AlertmanagerSettings())
    assert refused.value.field == field


def test_the_openapi_example_is_a_notification_the_adapter_reads() -> None:
    result = ADAPTER.adapt(ALERTMANAGER_EXAMPLE, AlertmanagerSettings())
    assert result.errors == []
    assert len(result.accepted) == 1


def test_alerts_alertmanager_left_out_are_said() -> None:
    payload = group()
    assert ADAPTER.adapt(payload, AlertmanagerSettings()).warnings == []
    payload["truncatedAlerts"] = 3
    (warning,) = ADAPTER.adapt(payload, AlertmanagerSettings()).warnings
    assert warning.startswith("Alertmanager left 3 alert(s) of this group out")
