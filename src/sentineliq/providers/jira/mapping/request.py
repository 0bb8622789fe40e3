"""TicketDraft -> the `fields` and `properties` of a Jira Cloud create-issue request.

Pure: no I/O. The provider fetches the create screen (createmeta) and resolves the assignee, then
this module decides every value. Optional fields the screen lacks, or whose value Jira would refuse,
are left out and recorded as `Dropped` with a reason, so a ticket is still filed and the operator
learns what was lost. Jira's text limits (limits.py) are enforced on every value.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sentineliq.document.adf import (
    DEFAULT_MAX_CHARS,
    adf_size,
    adf_text_paragraph,
    render_adf,
    sanitize_text,
)
from sentineliq.document.model import Document, Paragraph, Text
from sentineliq.providers.jira.assignees import AssigneeLookup, unassigned_note
from sentineliq.providers.jira.config import JiraConfig
from sentineliq.providers.jira.mapping.limits import (
    TEXTFIELD_MAX,
    cut,
    sanitize_labels,
    sanitize_line,
    summary_of,
)
from sentineliq.providers.jira.mapping.screen import CreateScreen, FieldMeta
from sentineliq.tickets.draft import AttributeValue, TicketDraft

IDEMPOTENCY_PREFIX = "siq-"
PROPERTY_KEY = "sentineliq"

# Fields SentinelIQ sets itself; custom_fields may not redirect alert attributes into them.
MANAGED_FIELDS = frozenset(
    {
        "summary",
        "description",
        "project",
        "issuetype",
        "priority",
        "labels",
        "assignee",
        "duedate",
        "reporter",
    }
)

_IDEMPOTENCY_SAFE = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


def idempotency_label(idempotency_key: str) -> str:
    """The label stamped on every issue, searchable by JQL to find it again after a lost answer.

    Readable keys are kept as they are; anything else is hashed, so the label is always a valid,
    JQL-safe label of at most 104 characters.
    """
    if _IDEMPOTENCY_SAFE.match(idempotency_key):
        if idempotency_key.startswith(IDEMPOTENCY_PREFIX):
            return idempotency_key  # the outbox's keys already carry the prefix
        return IDEMPOTENCY_PREFIX + idempotency_key
    return IDEMPOTENCY_PREFIX + "h-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


# --- values -------------------------------------------------------------------------------------


def textarea_adf(text: str) -> dict[str, Any]:
    return render_adf(Document((Paragraph((Text(sanitize_text(text)),)),)))


def _as_text(value: AttributeValue) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _as_datetime(value: AttributeValue) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
    raise ValueError("is a date field and the value is not an ISO 8601 date or time")


def shape_value(meta: FieldMeta, value: AttributeValue) -> Any:
    """`value` in the JSON shape Jira expects for the field's schema. ValueError says why not."""
    kind = meta.schema_type
    if kind == "number":
        if isinstance(value, bool | list):
            raise ValueError("is a number field and the value is not a number")
        if isinstance(value, int | float):
            return value
        try:
            number = float(str(value).strip())
        except ValueError:
            raise ValueError("is a number field and the value is not a number") from None
        return int(number) if number.is_integer() else number
    if kind == "string":
        if meta.is_textarea:
            return textarea_adf(_as_text(value))
        return cut(sanitize_line(_as_text(value)), TEXTFIELD_MAX)
    if kind == "option":
        return {"value": _option(meta, _as_text(value))}
    if kind == "array" and meta.items == "option":
        items = value if isinstance(value, list) else [str(value)]
        return [{"value": _option(meta, str(v))} for v in items]
    if kind == "array" and meta.items == "string":
        items = value if isinstance(value, list) else [str(value)]
        if meta.custom and meta.custom.endswith(":labels"):
            return sanitize_labels([str(v) for v in items])
        return [cut(sanitize_line(str(v)), TEXTFIELD_MAX) for v in items]
    if kind == "date":
        if isinstance(value, str) and len(value.strip()) == 10:
            try:
                return date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                raise ValueError("is a date field and the value is not a date") from None
        return _as_datetime(value).date().isoformat()
    if kind == "datetime":
        moment = _as_datetime(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (
            moment.strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{moment.microsecond // 1000:03d}"
            + (moment.strftime("%z"))
        )
    described = f"{kind}" + (f" of {meta.items}" if meta.items else "")
    raise ValueError(f"has type {described}, which alert attributes cannot fill")


def _option(meta: FieldMeta, text: str) -> str:
    if not meta.allowed:
        return text
    found = meta.allowed_by_name(text)
    if found is None:
        options = ", ".join(v.label for v in meta.allowed[:20])
        raise ValueError(f"has no option {text!r} (options: {options})")
    return found.label


# --- the request --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dropped:
    """An optional field left out of the ticket, and why."""

    field: str
    reason: str
    not_on_screen: bool = False


@dataclass
class CreateRequest:
    fields: dict[str, Any]
    properties: list[dict[str, Any]]
    dropped: list[Dropped] = field(default_factory=list)
    idempotency_label: str = ""
    # `update` operations, e.g. {"issuelinks": [{"add": ...}]}: fields only `update` can set.
    update: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"fields": self.fields, "properties": self.properties}
        if self.update:
            body["update"] = self.update
        return body

    def drop(self, name: str, reason: str, *, not_on_screen: bool = False) -> None:
        self.fields.pop(name, None)
        self.update.pop(name, None)
        if all(d.field != name for d in self.dropped):
            self.dropped.append(Dropped(name, reason, not_on_screen))


def build_request(
    draft: TicketDraft,
    *,
    config: JiraConfig,
    screen: CreateScreen,
    idempotency_key: str,
    assignee: AssigneeLookup | None,
    static_fields: Mapping[str, Any] | None = None,
    static_labels: Sequence[str] = (),
) -> CreateRequest:
    """Everything for POST /rest/api/3/issue. `assignee` is None when no email was given.

    `static_fields` (by field id, already shaped, see fieldvalues) are set first, so values from
    the alert win where both apply; `static_labels` join the alert's labels.
    """
    id_label = idempotency_label(idempotency_key)
    request = CreateRequest(
        fields={
            "project": {"key": config.project_key},
            "issuetype": {"id": screen.issue_type.id},
            "summary": summary_of(draft.summary),
        },
        properties=[
            {
                "key": PROPERTY_KEY,
                "value": {
                    "idempotency_key": idempotency_key,
                    "fingerprint": draft.attributes.get("fingerprint"),
                    "link": draft.link,
                },
            }
        ],
        idempotency_label=id_label,
    )
    on_screen = screen.fields
    missing = f"not on the create screen of {screen.where}"
    request.fields.update(static_fields or {})

    if "description" in on_screen:
        note = unassigned_note(assignee) if "assignee" in on_screen else None
        request.fields["description"] = _description(draft, note)
    else:
        request.drop("description", missing, not_on_screen=True)

    _priority(request, draft, config, screen)

    if "labels" in on_screen:
        labels = [*sanitize_labels([*draft.labels, *static_labels]), id_label]
        request.fields["labels"] = list(dict.fromkeys(labels))
    else:
        request.drop(
            "labels",
            f"{missing}; the idempotency label {id_label} could not be set, so an issue whose "
            "creation answer is lost cannot be found again by search",
            not_on_screen=True,
        )

    if assignee is not None:
        if "assignee" not in on_screen:
            request.drop("assignee", missing, not_on_screen=True)
        elif assignee.account_id is None:
            request.drop("assignee", assignee.reason or "no matching Jira user")
        else:
            request.fields["assignee"] = {"accountId": assignee.account_id}

    if draft.due_date is not None:
        if "duedate" in on_screen:
            request.fields["duedate"] = draft.due_date.isoformat()
        else:
            request.drop("duedate", missing, not_on_screen=True)

    for ref, attribute in config.custom_fields.items():
        value = draft.attributes.get(attribute)
        if value is None or value == [] or value == "":
            continue
        meta = screen.find(ref)
        if meta is None:
            request.drop(ref, missing, not_on_screen=True)
            continue
        if meta.field_id in MANAGED_FIELDS:
            request.drop(ref, "is set by SentinelIQ itself and cannot take an alert attribute")
            continue
        try:
            request.fields[meta.field_id] = shape_value(meta, value)
        except ValueError as exc:
            request.drop(meta.field_id, f"{meta.name} {exc}")
    return request


def _description(draft: TicketDraft, note: str | None) -> dict[str, Any]:
    """The rendered document, plus `note` as a last paragraph that any truncation leaves alone."""
    if note is None:
        return render_adf(draft.document, full_content_url=draft.link)
    line = adf_text_paragraph(note)
    adf = render_adf(
        draft.document,
        full_content_url=draft.link,
        max_chars=DEFAULT_MAX_CHARS - adf_size(line) - 1,  # the comma before it
    )
    adf["content"].append(line)
    return adf


def _priority(
    request: CreateRequest, draft: TicketDraft, config: JiraConfig, screen: CreateScreen
) -> None:
    meta = screen.fields.get("priority")
    wanted = config.priority_map[draft.priority.value]
    if meta is None:
        request.drop("priority", f"not on the create screen of {screen.where}", not_on_screen=True)
        return
    if not meta.allowed:  # the screen did not list values; let Jira judge the name
        request.fields["priority"] = {"name": wanted}
        return
    found = meta.allowed_by_name(wanted)
    if found is None:
        available = ", ".join(v.label for v in meta.allowed)
        request.drop(
            "priority",
            f"priority {wanted!r} (for {draft.priority.value}) is not in the priority scheme of "
            f"{screen.project_key} (available: {available})",
        )
        return
    request.fields["priority"] = {"name": found.label}
