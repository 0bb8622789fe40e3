"""Prometheus Alertmanager's webhook (payload version 4): one POST carries a group of alerts.

Identity is Alertmanager's own: its `fingerprint` (a hash of the alert's label set) is ours, and
the source id, so the same alert re-notified every `repeat_interval` (same `startsAt`) is a
duplicate, and a new firing after a resolution (a later `startsAt`) is a repeat of the alert.
`status: resolved` resolves the alert. Shape: prometheus.io/docs/alerting/latest/configuration
(`<webhook_config>`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from sentineliq.alerts.model import Module, Severity
from sentineliq.alerts.normalize import IngestWarning
from sentineliq.alerts.parse import RecordError
from sentineliq.inputs.base import InputAdapter, InputError, InputResult, Json

VERSION = "4"
SOURCE = "alertmanager"
FINGERPRINT_PREFIX = "alertmanager:"
MAX_TAGS = 100  # the alert model's cap; labels past it stay in the description and the raw

# Common `severity` label values (Prometheus mixins, kube-prometheus, Grafana) to ours.
DEFAULT_SEVERITY_MAP: dict[str, Severity] = {
    "critical": Severity.CRITICAL,
    "page": Severity.CRITICAL,
    "error": Severity.HIGH,
    "high": Severity.HIGH,
    "major": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "warn": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "minor": Severity.LOW,
    "low": Severity.LOW,
    "info": Severity.INFO,
    "informational": Severity.INFO,
    "none": Severity.INFO,
}

LabelValue = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class AlertmanagerSettings(BaseModel):
    """A workspace's reading of Alertmanager alerts."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "severity_map": {"critical": "critical", "warning": "high", "info": "low"},
                    "default_severity": "medium",
                    "module": "aegis",
                }
            ]
        },
    )

    severity_map: Annotated[dict[LabelValue, Severity], Field(max_length=100)] = Field(
        default_factory=lambda: dict(DEFAULT_SEVERITY_MAP),
        description="`labels.severity` value (case-insensitive) to SentinelIQ severity.",
        examples=[{"critical": "critical", "warning": "medium", "info": "info"}],
    )
    default_severity: Severity = Field(
        default=Severity.MEDIUM,
        description="For an alert without a `severity` label, or with one the map lacks.",
    )
    module: Module = Field(default=Module.AEGIS, description="The module the alerts belong to.")

    def severity_of(self, label: str | None) -> tuple[Severity, IngestWarning | None]:
        if label is None or not label.strip():
            return self.default_severity, IngestWarning(
                "labels.severity",
                f"absent: the workspace's default severity {self.default_severity.value} was used",
            )
        folded = {key.casefold(): value for key, value in self.severity_map.items()}
        found = folded.get(label.strip().casefold())
        if found is None:
            return self.default_severity, IngestWarning(
                "labels.severity",
                f"{label!r} is not in the workspace's severity map: "
                f"{self.default_severity.value} was used",
            )
        return found, None


def _strings(value: object) -> dict[str, str]:
    """A label or annotation set: string values kept, other scalars written out, rest ignored."""
    if not isinstance(value, dict):
        return {}
    out: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, str):
            out[str(key)] = item
        elif isinstance(item, bool | int | float):
            out[str(key)] = str(item).lower() if isinstance(item, bool) else str(item)
    return out


def _text(value: object) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _section(heading: str, values: dict[str, str]) -> str:
    return heading + "\n" + "\n".join(f"{key}: {value}" for key, value in sorted(values.items()))


class AlertmanagerAdapter(InputAdapter[AlertmanagerSettings]):
    name = "alertmanager"
    settings_model = AlertmanagerSettings
    field_sources: ClassVar[Mapping[str, str]] = {
        "title": "annotations.summary",
        "detected_at": "startsAt",
        "link": "generatorURL",
        "description": "annotations.description",
        "external_id": "fingerprint",
        "fingerprint": "fingerprint",
        "tags": "labels",
    }

    def adapt(self, payload: object, settings: AlertmanagerSettings) -> InputResult:
        if not isinstance(payload, dict):
            raise InputError("", "must be a JSON object: an Alertmanager webhook notification")
        version = payload.get("version")
        if version is not None and version != VERSION:
            raise InputError("version", f"{version!r}: only payload version {VERSION} is read")
        alerts = payload.get("alerts")
        if not isinstance(alerts, list) or not alerts:
            raise InputError("alerts", "is required: a non-empty list of the group's alerts")
        group = {key: value for key, value in payload.items() if key != "alerts"}
        result = InputResult()
        truncated = payload.get("truncatedAlerts")
        if isinstance(truncated, int) and not isinstance(truncated, bool) and truncated > 0:
            result.warnings.append(
                f"Alertmanager left {truncated} alert(s) of this group out of the notification "
                "(the receiver's max_alerts): they were not received"
            )
        for number, item in enumerate(alerts, start=1):
            if not isinstance(item, dict):
                result.errors.append(RecordError(number, "", "must be a JSON object"))
                continue
            self._one(result, number, item, group, settings)
        return result

    def _one(
        self,
        result: InputResult,
        number: int,
        item: Json,
        group: Json,
        settings: AlertmanagerSettings,
    ) -> None:
        labels, annotations = _strings(item.get("labels")), _strings(item.get("annotations"))
        fingerprint, starts_at = _text(item.get("fingerprint")), _text(item.get("startsAt"))
        name, instance = _text(labels.get("alertname")), _text(labels.get("instance"))
        title = _text(annotations.get("summary"))
        if title is None and name is not None:
            title = f"{name} on {instance}" if instance else name
        missing: list[tuple[str, str]] = []
        if fingerprint is None:
            missing.append(("fingerprint", "is required: Alertmanager's identity of the alert"))
        if starts_at is None:
            missing.append(("startsAt", "is required: when the alert started firing (RFC 3339)"))
        if title is None:
            missing.append(("labels.alertname", "is required when annotations.summary is absent"))
        if missing:
            result.errors.extend(RecordError(number, f, p) for f, p in missing)
            return
        assert fingerprint is not None and title is not None
        severity, warning = settings.severity_of(labels.get("severity"))
        status = item.get("status", group.get("status"))
        described = _text(annotations.get("description"))
        others = {k: v for k, v in annotations.items() if k not in ("summary", "description")}
        parts = [described or "", _section("Labels", labels) if labels else ""]
        parts.append(_section("Annotations", others) if others else "")
        fields: dict[str, Any] = {
            "title": title,
            "description": "\n\n".join(part for part in parts if part),
            "severity": severity.value,
            "source": SOURCE,
            "category": name,
            "detected_at": starts_at,
            "affected_assets": [instance] if instance else [],
            "tags": [f"{key}={value}" for key, value in sorted(labels.items())][:MAX_TAGS],
            "external_id": fingerprint,
            "fingerprint": FINGERPRINT_PREFIX + fingerprint,
            "link": _text(item.get("generatorURL")),
            "module": settings.module.value,
        }
        self.record(
            result,
            number,
            fields,
            # The group with this one alert: itself a valid notification, replayable as is.
            raw={**group, "alerts": [item]},
            resolved=status == "resolved",
            warnings=(warning,) if warning is not None else (),
        )
