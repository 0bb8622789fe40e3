"""TicketDraft -> the `fields` and `properties` of a Jira Cloud create-issue request.

Pure: no I/O. The provider fetches the create screen (createmeta) and resolves the assignee, then
this module decides every value. Optional fields the screen lacks, or whose value Jira would refuse,
are left out and recorded as `Dropped` with a reason, so a ticket is still filed and the operator
learns what was lost. Jira's own limits are enforced here: summary one line and at most 255
characters (Java counts UTF-16 units, so an emoji counts twice), labels without spaces and at most
255 characters each.
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
from sentineliq.providers.base import ErrorKind, ProviderError
from sentineliq.providers.jira.assignees import AssigneeLookup, unassigned_note
from sentineliq.providers.jira.config import JiraConfig
from sentineliq.tickets.draft import AttributeValue, TicketDraft

SUMMARY_MAX = 255
LABEL_MAX = 255
TEXTFIELD_MAX = 255
IDEMPOTENCY_PREFIX = "siq-"
PROPERTY_KEY = "sentineliq"
ELLIPSIS = "…"

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

_WHITESPACE = re.compile(r"\s+")
# Labels keep letters, digits and a few separators; anything else (quotes, commas, brackets,
# control characters) breaks JQL label searches or Jira's label picker.
_LABEL_DROP = re.compile(r"[^\w.:@#+=&/-]")
_DASHES = re.compile(r"-{2,}")
_IDEMPOTENCY_SAFE = re.compile(r"^[A-Za-z0-9_.:-]{1,100}$")


# --- create-screen metadata ---------------------------------------------------------------------


@dataclass(frozen=True)
class AllowedValue:
    id: str | None
    name: str | None  # priorities, issue types, components
    value: str | None  # select-list options

    @property
    def label(self) -> str:
        return self.name or self.value or self.id or "?"


@dataclass(frozen=True)
class FieldMeta:
    field_id: str
    name: str
    required: bool
    has_default: bool
    schema_type: str
    items: str | None = None
    system: str | None = None
    custom: str | None = None
    allowed: tuple[AllowedValue, ...] = ()

    @classmethod
    def from_createmeta(cls, raw: Mapping[str, Any]) -> FieldMeta:
        raw_schema = raw.get("schema")
        schema: Mapping[str, Any] = raw_schema if isinstance(raw_schema, Mapping) else {}
        allowed = tuple(
            AllowedValue(
                id=str(v["id"]) if v.get("id") is not None else None,
                name=str(v["name"]) if v.get("name") is not None else None,
                value=str(v["value"]) if v.get("value") is not None else None,
            )
            for v in raw.get("allowedValues") or ()
            if isinstance(v, Mapping)
        )
        field_id = str(raw.get("fieldId") or raw.get("key") or raw.get("id") or "")
        return cls(
            field_id=field_id,
            name=str(raw.get("name") or field_id),
            required=bool(raw.get("required")),
            has_default=bool(raw.get("hasDefaultValue")),
            schema_type=str(schema.get("type") or ""),
            items=str(schema["items"]) if schema.get("items") else None,
            system=str(schema["system"]) if schema.get("system") else None,
            custom=str(schema["custom"]) if schema.get("custom") else None,
            allowed=allowed,
        )

    def allowed_by_name(self, name: str) -> AllowedValue | None:
        wanted = name.casefold()
        for value in self.allowed:
            if (value.name or value.value or "").casefold() == wanted:
                return value
        return None

    @property
    def is_textarea(self) -> bool:
        return bool(self.custom and self.custom.endswith(":textarea"))


@dataclass(frozen=True)
class IssueTypeMeta:
    id: str
    name: str
    subtask: bool = False

    @classmethod
    def from_createmeta(cls, raw: Mapping[str, Any]) -> IssueTypeMeta:
        return cls(
            id=str(raw.get("id", "")),
            name=str(raw.get("name", "")),
            subtask=bool(raw.get("subtask")),
        )


@dataclass(frozen=True)
class CreateScreen:
    project_key: str
    issue_type: IssueTypeMeta
    fields: Mapping[str, FieldMeta]  # by field id

    @classmethod
    def build(
        cls, project_key: str, issue_type: IssueTypeMeta, raw_fields: Sequence[Mapping[str, Any]]
    ) -> CreateScreen:
        metas = (FieldMeta.from_createmeta(raw) for raw in raw_fields)
        return cls(project_key, issue_type, {m.field_id: m for m in metas if m.field_id})

    def find(self, ref: str) -> FieldMeta | None:
        """A field by id, or else by name (case-insensitive), as the operator wrote it."""
        if ref in self.fields:
            return self.fields[ref]
        wanted = ref.casefold()
        matches = [m for m in self.fields.values() if m.name.casefold() == wanted]
        return matches[0] if len(matches) == 1 else None

    @property
    def where(self) -> str:
        return f"{self.project_key} / {self.issue_type.name}"


def resolve_issue_type(
    wanted: str, types: Sequence[IssueTypeMeta], project_key: str
) -> IssueTypeMeta:
    """The configured issue type (by id if numeric, else by name), or a CONFIG error."""
    if wanted.isdigit():
        found = [t for t in types if t.id == wanted]
    else:
        found = [t for t in types if t.name.casefold() == wanted.casefold()]
    available = ", ".join(t.name for t in types if not t.subtask) or "none"
    if not found:
        raise ProviderError(
            ErrorKind.CONFIG,
            f"issue type {wanted!r} does not exist in project {project_key} or the account "
            f"cannot create it there (available: {available})",
        )
    if found[0].subtask:
        raise ProviderError(
            ErrorKind.CONFIG,
            f"issue type {found[0].name!r} is a sub-task type and needs a parent issue; "
            f"choose one of: {available}",
        )
    return found[0]


# --- values -------------------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def cut(text: str, limit: int) -> str:
    """`text` if it fits in `limit` UTF-16 units, else cut to `limit - 1` and ended with "…"."""
    if utf16_len(text) <= limit:
        return text
    budget = limit - 1
    out: list[str] = []
    used = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > budget:
            break
        out.append(char)
        used += width
    return "".join(out).rstrip() + ELLIPSIS


def one_line(text: str) -> str:
    return _WHITESPACE.sub(" ", sanitize_text(text, newlines=False)).strip()


def summary_of(text: str) -> str:
    return cut(one_line(text), SUMMARY_MAX) or "Untitled alert"


def sanitize_label(raw: str) -> str | None:
    """Whitespace -> "-", awkward characters removed, at most 255 characters; None if empty."""
    label = _WHITESPACE.sub("-", sanitize_text(raw, newlines=False).strip())
    label = _DASHES.sub("-", _LABEL_DROP.sub("", label)).strip("-")
    if not label:
        return None
    while utf16_len(label) > LABEL_MAX:  # no ellipsis: labels are identifiers, not prose
        label = label[:-1]
    return label


def sanitize_labels(raws: Sequence[str]) -> list[str]:
    """Sanitized, deduplicated case-insensitively, first spelling and order kept."""
    seen: set[str] = set()
    out: list[str] = []
    for raw in raws:
        label = sanitize_label(raw)
        if label is not None and label.casefold() not in seen:
            seen.add(label.casefold())
            out.append(label)
    return out


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
        return cut(one_line(_as_text(value)), TEXTFIELD_MAX)
    if kind == "option":
        return {"value": _option(meta, _as_text(value))}
    if kind == "array" and meta.items == "option":
        items = value if isinstance(value, list) else [str(value)]
        return [{"value": _option(meta, str(v))} for v in items]
    if kind == "array" and meta.items == "string":
        items = value if isinstance(value, list) else [str(value)]
        if meta.custom and meta.custom.endswith(":labels"):
            return sanitize_labels([str(v) for v in items])
        return [cut(one_line(str(v)), TEXTFIELD_MAX) for v in items]
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

    def body(self) -> dict[str, Any]:
        return {"fields": self.fields, "properties": self.properties}

    def drop(self, name: str, reason: str, *, not_on_screen: bool = False) -> None:
        self.fields.pop(name, None)
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
