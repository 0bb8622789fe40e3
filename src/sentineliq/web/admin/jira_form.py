"""The Jira configure form: form fields <-> the provider's raw configuration, and its errors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.datastructures import FormData

from sentineliq.alerts.model import InfringementType, Severity
from sentineliq.providers.jira.config import ALERT_ATTRIBUTES, DEFAULT_PRIORITY_MAP
from sentineliq.providers.jira.mapping import FieldMeta
from sentineliq.storage.crypto import MASK
from sentineliq.tickets.brand import INFRINGEMENTS
from sentineliq.tickets.content import BrandGate
from sentineliq.tickets.redaction import PATTERN_NAMES, Redaction

PRIORITIES: tuple[str, ...] = tuple(DEFAULT_PRIORITY_MAP)
ATTRIBUTES: tuple[str, ...] = ALERT_ATTRIBUTES
# (setting, label) of each redaction checkbox, in the order the docs list them.
REDACTION_CHOICES: tuple[tuple[str, str], ...] = (
    ("api_tokens", "API tokens"),
    ("url_passwords", "Passwords in URLs"),
    ("aws_keys", "AWS keys"),
    ("private_keys", "Private keys"),
    ("jwts", "JSON Web Tokens"),
    ("emails", "Email addresses"),
)
assert tuple(name for name, _ in REDACTION_CHOICES) == PATTERN_NAMES
_DEFAULT_REDACTION = Redaction()
_DEFAULT_GATE = BrandGate()
# The brand gate's boxes: (name, label) per severity and per infringement type.
GATE_SEVERITIES: tuple[tuple[str, str], ...] = tuple(
    (s.value, s.value.capitalize()) for s in Severity
)
GATE_INFRINGEMENTS: tuple[tuple[str, str], ...] = tuple(
    (kind.value, INFRINGEMENTS[kind]) for kind in InfringementType
)
BLANK_CUSTOM_ROWS = 2  # empty rows offered for new mappings, no JavaScript needed to add one
MAX_CUSTOM_ROWS = 50
MAX_VALUE_ROWS = 50
# Every field the form shows an inline message under; anything else goes to "config".
FORM_FIELDS = (
    "base_url",
    "email",
    "api_token",
    "project_key",
    "issue_type",
    "priority_map",
    "custom_fields",
    "field_values",
    "site_url",
)


@dataclass(frozen=True)
class ValueRow:
    """One field-value row of the form; `required` rows come from the last connection test."""

    index: int
    ref: str
    value: str
    required: FieldMeta | None = None

    @property
    def options(self) -> list[str]:
        return [v.label for v in self.required.allowed] if self.required is not None else []


def _as_text(value: object) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)


@dataclass
class JiraForm:
    """The form's values as shown. There is deliberately no token field: it is never shown."""

    base_url: str = ""
    email: str = ""
    project_key: str = ""
    issue_type: str = "Task"
    priorities: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PRIORITY_MAP))
    custom_fields: list[tuple[str, str]] = field(default_factory=list)
    field_values: list[tuple[str, str]] = field(default_factory=list)
    site_url: str = ""
    defang: bool = True
    redaction: dict[str, bool] = field(
        default_factory=lambda: {name: getattr(_DEFAULT_REDACTION, name) for name in PATTERN_NAMES}
    )
    gate_severities: tuple[str, ...] = tuple(s.value for s in _DEFAULT_GATE.severities)
    gate_infringements: tuple[str, ...] = tuple(k.value for k in _DEFAULT_GATE.infringements)
    # Settings the form does not edit (timeout_s, mirror_comments, lifecycle, the other content
    # sections) are carried over from the stored config.
    kept: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_stored(cls, config: Mapping[str, Any]) -> JiraForm:
        priorities = dict(DEFAULT_PRIORITY_MAP)
        priorities.update({str(k): str(v) for k, v in dict(config.get("priority_map", {})).items()})
        custom = dict(config.get("custom_fields", {}))
        values = dict(config.get("field_values", {}))
        content = dict(config.get("content") or {})
        redaction = dict(content.get("redaction") or {})
        gate = dict(content.get("brand_gate") or {})
        return cls(
            base_url=str(config.get("base_url", "")),
            email=str(config.get("email", "")),
            project_key=str(config.get("project_key", "")),
            issue_type=str(config.get("issue_type", "Task")),
            priorities=priorities,
            custom_fields=[(str(k), str(v)) for k, v in custom.items()],
            field_values=[(str(k), _as_text(v)) for k, v in values.items()],
            site_url=str(config.get("site_url") or ""),
            defang=bool(content.get("defang", True)),
            redaction={
                name: bool(redaction.get(name, getattr(_DEFAULT_REDACTION, name)))
                for name in PATTERN_NAMES
            },
            gate_severities=tuple(str(v) for v in gate.get("severities", JiraForm.gate_severities)),
            gate_infringements=tuple(
                str(v) for v in gate.get("infringements", JiraForm.gate_infringements)
            ),
            kept=_kept(config),
        )

    @classmethod
    def from_posted(cls, form: FormData, stored: Mapping[str, Any] | None) -> JiraForm:
        def text(name: str) -> str:
            value = form.get(name)
            return value.strip() if isinstance(value, str) else ""

        custom: list[tuple[str, str]] = []
        for index in range(MAX_CUSTOM_ROWS):
            field_id, attribute = text(f"cf_field_{index}"), text(f"cf_attr_{index}")
            if field_id or attribute:
                custom.append((field_id, attribute))
        values: list[tuple[str, str]] = []
        for index in range(MAX_VALUE_ROWS):
            ref, value = text(f"fv_field_{index}"), text(f"fv_value_{index}")
            if ref or value:
                values.append((ref, value))
        shown = cls(
            base_url=text("base_url"),
            email=text("email"),
            project_key=text("project_key"),
            issue_type=text("issue_type"),
            priorities={name: text(f"priority_{name}") for name in PRIORITIES},
            custom_fields=custom,
            field_values=values,
            site_url=text("site_url"),
            kept=_kept(stored or {}),
        )
        before = cls.from_stored(stored or {})
        if text("brand_gate_form") == "1":
            shown = replace(
                shown,
                gate_severities=tuple(
                    n for n, _ in GATE_SEVERITIES if text(f"gate_sev_{n}") == "on"
                ),
                gate_infringements=tuple(
                    n for n, _ in GATE_INFRINGEMENTS if text(f"gate_inf_{n}") == "on"
                ),
            )
        else:  # a page without the fieldset leaves the stored gate alone
            shown = replace(
                shown,
                gate_severities=before.gate_severities,
                gate_infringements=before.gate_infringements,
            )
        if text("content_form") != "1":
            # A form without the fieldset (an older page) leaves the stored choices alone:
            # unchecked boxes must not switch redaction off by accident.
            return replace(shown, defang=before.defang, redaction=before.redaction)
        return replace(
            shown,
            defang=text("defang") == "on",
            redaction={name: text(f"redact_{name}") == "on" for name in PATTERN_NAMES},
        )

    def raw(self, api_token: str) -> dict[str, Any]:
        """The provider configuration to validate or save, with `api_token` as given."""
        content = dict(self.kept.get("content") or {})
        content.update(defang=self.defang, redaction=dict(self.redaction))
        content["brand_gate"] = {
            "severities": list(self.gate_severities),
            "infringements": list(self.gate_infringements),
        }
        return {
            **self.kept,
            "content": content,
            "base_url": self.base_url,
            "email": self.email,
            "api_token": api_token,
            "project_key": self.project_key,
            "issue_type": self.issue_type,
            "priority_map": dict(self.priorities),
            # A row with a field id but no attribute is a mistake JiraConfig names for us.
            "custom_fields": dict(self.custom_fields),
            # A row with a name but no value is a mistake JiraConfig names ("must not be empty").
            "field_values": dict(self.field_values),
            "site_url": self.site_url or None,
        }

    def custom_rows(self) -> list[tuple[int, str, str]]:
        """The custom-field rows to show: the mapped ones, then blank rows to add more."""
        rows = [*self.custom_fields, *[("", "")] * BLANK_CUSTOM_ROWS][:MAX_CUSTOM_ROWS]
        return [(index, field_id, attribute) for index, (field_id, attribute) in enumerate(rows)]

    def value_rows(self, required: tuple[FieldMeta, ...] = ()) -> list[ValueRow]:
        """Field-value rows: one per required field the connection test found (with the value
        already given for it, by id or name), then the other values, then blank rows."""
        rest = list(self.field_values)
        rows: list[ValueRow] = []
        for meta in required:
            names = {meta.field_id.casefold(), meta.name.casefold()}
            given = next((pair for pair in rest if pair[0].casefold() in names), None)
            if given is not None:
                rest.remove(given)
            ref = given[0] if given is not None else meta.field_id
            rows.append(ValueRow(len(rows), ref, given[1] if given else "", meta))
        for ref, value in [*rest, *[("", "")] * BLANK_CUSTOM_ROWS]:
            if len(rows) >= MAX_VALUE_ROWS:
                break
            rows.append(ValueRow(len(rows), ref, value))
        return rows


def _kept(config: Mapping[str, Any]) -> dict[str, Any]:
    kept = ("timeout_s", "mirror_comments", "lifecycle", "content")
    return {key: config[key] for key in kept if key in config}


def token_to_submit(typed: object, *, stored: bool) -> str:
    """The api_token value to validate/save: what was typed, else the stored one (as MASK)."""
    if isinstance(typed, str) and typed != "":
        return typed
    return MASK if stored else ""


def errors_by_field(problems: list[str]) -> dict[str, list[str]]:
    """`format_config_errors` lines ("field: message") -> messages per form field."""
    found: dict[str, list[str]] = {}
    for line in problems:
        name, sep, message = line.partition(": ")
        if not sep or name not in FORM_FIELDS:
            name, message = "config", line
        # Map fields list one problem per row; show each on its own line.
        parts = (
            message.split("; ")
            if name in ("priority_map", "custom_fields", "field_values")
            else [message]
        )
        found.setdefault(name, []).extend(_sentence(part) for part in parts)
    return found


def _sentence(message: str) -> str:
    message = message.strip()
    return message[:1].upper() + message[1:] if message else message
