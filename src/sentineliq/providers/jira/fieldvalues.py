"""Static field values and required fields: what the create screen demands, and who fills it.

Many Jira projects require a field with no default (a Team select, Components, Epic Name). Jira
refuses every create without it, so SentinelIQ reads `required` / `hasDefaultValue` from the
create screen, lets the operator give such fields a fixed value (`JiraConfig.field_values`), and
shapes each value by the field's schema: options as `{"value"}` (or `{"id"}`), components and
versions as `{"name"}`, users as `{"accountId"}` (looked up by email), numbers, dates, labels and
text (ADF for multi-line text). Pure: the provider does the user look-ups and passes the answers in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sentineliq.providers.jira.config import FieldValue, JiraConfig
from sentineliq.providers.jira.mapping import AllowedValue, CreateScreen, FieldMeta, shape_value

# Filled on every create whenever the screen has them (see mapping.build_request); reporter
# defaults to the caller on Cloud. Custom-field mappings depend on the alert, so they are not.
ALWAYS_FILLED = frozenset({"project", "issuetype", "summary", "description", "labels"})
ALLOWED_SHOWN = 10
# Schema kinds shape_value already handles for alert attributes.
_DELEGATED = frozenset({"number", "string", "date", "datetime", "option"})
_NAMED_ITEMS = frozenset({"component", "version", "group"})


@dataclass(frozen=True)
class ValueProblem:
    """A configured static value that cannot be set on the live create screen."""

    ref: str
    reason: str
    meta: FieldMeta | None = None  # None: the screen has no such field

    @property
    def required(self) -> bool:
        return self.meta is not None and is_mandatory(self.meta)

    def describe(self) -> str:
        if self.meta is None:
            return f"{self.ref}: {self.reason}"
        return f"{self.meta.name} ({self.meta.field_id}): {self.reason}"


@dataclass
class StaticValues:
    """The configured values shaped for one create screen, by field id, and what could not be."""

    fields: dict[str, Any] = field(default_factory=dict)
    problems: list[ValueProblem] = field(default_factory=list)


def is_mandatory(meta: FieldMeta) -> bool:
    return meta.required and not meta.has_default


def describe_schema(meta: FieldMeta) -> str:
    return meta.schema_type + (f" of {meta.items}" if meta.items else "")


def allowed_labels(meta: FieldMeta, limit: int = ALLOWED_SHOWN) -> list[str]:
    return [v.label for v in meta.allowed[:limit]]


def user_emails(config: JiraConfig, screen: CreateScreen) -> list[str]:
    """Emails in static values of user fields: the provider resolves them to accountIds."""
    emails: list[str] = []
    for ref, raw in config.field_values.items():
        meta = screen.find(ref)
        if meta is None or "user" not in (meta.schema_type, meta.items):
            continue
        for item in _items(raw):
            if "@" in item and item.casefold() not in emails:
                emails.append(item.casefold())
    return emails


def resolve_static(
    config: JiraConfig, screen: CreateScreen, accounts: Mapping[str, str | None]
) -> StaticValues:
    """Every configured value shaped for `screen`; `accounts` maps casefolded emails."""
    out = StaticValues()
    for ref, raw in config.field_values.items():
        meta = screen.find(ref)
        if meta is None:
            out.problems.append(ValueProblem(ref, f"not on the create screen of {screen.where}"))
            continue
        try:
            shaped = shape_static(meta, raw, accounts)
        except ValueError as exc:
            out.problems.append(ValueProblem(ref, str(exc), meta))
            continue
        if meta.field_id == "labels":
            continue  # merged into the labels SentinelIQ sets (see mapping.build_request)
        out.fields[meta.field_id] = shaped
    return out


def unfilled_required(
    config: JiraConfig, screen: CreateScreen, static: StaticValues
) -> list[FieldMeta]:
    """Required fields without a default that no create would fill."""
    filled = set(ALWAYS_FILLED) | set(static.fields)
    if "priority" in screen.fields:
        filled.add("priority")  # a bad priority name is the priority scheme check's business
    for ref in config.custom_fields:
        meta = screen.find(ref)
        if meta is not None:
            filled.add(meta.field_id)
    return [
        meta
        for meta in screen.fields.values()
        if is_mandatory(meta) and meta.field_id not in filled
    ]


def static_labels(config: JiraConfig) -> list[str]:
    for ref, raw in config.field_values.items():
        if ref.casefold() == "labels":
            return _items(raw)
    return []


# --- shaping ------------------------------------------------------------------------------------


def _items(raw: FieldValue) -> list[str]:
    if isinstance(raw, list):
        return [str(v) for v in raw]
    return [str(raw)]


def _many(meta: FieldMeta, raw: FieldValue) -> list[str]:
    """A list value; a single text with commas is split unless it names one allowed value."""
    if isinstance(raw, list):
        return [str(v) for v in raw]
    text = str(raw)
    if "," in text and _find(meta, text) is None:
        return [part.strip() for part in text.split(",") if part.strip()]
    return [text]


def _find(meta: FieldMeta, text: str) -> AllowedValue | None:
    found = meta.allowed_by_name(text)
    if found is not None:
        return found
    return next((v for v in meta.allowed if v.id is not None and v.id == text), None)


def _choice(meta: FieldMeta, text: str) -> AllowedValue | None:
    """The allowed value `text` names; None if the screen lists none. ValueError if not allowed."""
    if not meta.allowed:
        return None
    found = _find(meta, text)
    if found is None:
        shown = ", ".join(allowed_labels(meta))
        more = ", ..." if len(meta.allowed) > ALLOWED_SHOWN else ""
        raise ValueError(f"has no option {text!r} (allowed: {shown}{more})")
    return found


def _reference(meta: FieldMeta, text: str, key: Literal["value", "name"]) -> dict[str, str]:
    """How Jira takes an allowed value: options by `value`, components and versions by `name`;
    by id when the screen lists the choice without that attribute."""
    found = _choice(meta, text)
    if found is None:
        return {key: text}
    label = found.value if key == "value" else found.name
    return {key: label} if label is not None else {"id": str(found.id)}


def _user(text: str, accounts: Mapping[str, str | None]) -> dict[str, str]:
    if "@" not in text:
        return {"accountId": text}  # given as an accountId already
    account = accounts.get(text.casefold())
    if account is None:
        raise ValueError(f"no active Jira user with the email {text} is visible to the account")
    return {"accountId": account}


def shape_static(meta: FieldMeta, raw: FieldValue, accounts: Mapping[str, str | None]) -> Any:
    """`raw` in the JSON shape the field's schema takes. ValueError says why it cannot be."""
    kind, items = meta.schema_type, meta.items
    if kind == "array" and items == "option":
        return [_reference(meta, text, "value") for text in _many(meta, raw)]
    if kind == "option":
        if isinstance(raw, list):
            raise ValueError("takes one option, not a list")
        return _reference(meta, str(raw), "value")
    if kind == "array" and items in _NAMED_ITEMS:
        return [_reference(meta, text, "name") for text in _many(meta, raw)]
    if kind in _NAMED_ITEMS:
        return _reference(meta, _single(raw), "name")
    if kind == "user":
        return _user(_single(raw), accounts)
    if kind == "array" and items == "user":
        return [_user(text, accounts) for text in _many(meta, raw)]
    if kind == "array" and items == "string":
        return shape_value(meta, _many(meta, raw))
    if kind in _DELEGATED:
        return shape_value(meta, raw)
    raise ValueError(
        f"has type {describe_schema(meta)}, which SentinelIQ cannot fill with a static value; "
        "give it a default value in Jira instead"
    )


def _single(raw: FieldValue) -> str:
    if isinstance(raw, list):
        if len(raw) != 1:
            raise ValueError("takes one value, not a list")
        return str(raw[0])
    return str(raw)


def required_summary(metas: Sequence[FieldMeta]) -> str:
    """'Team (customfield_10060), allowed: Blue Team, Red Team' for each field, joined by '; '."""
    parts = []
    for meta in metas:
        text = f"{meta.name} ({meta.field_id})"
        if meta.allowed:
            more = (
                f" and {len(meta.allowed) - ALLOWED_SHOWN} more"
                if len(meta.allowed) > ALLOWED_SHOWN
                else ""
            )
            text += f", allowed: {', '.join(allowed_labels(meta))}{more}"
        parts.append(text)
    return "; ".join(parts)
