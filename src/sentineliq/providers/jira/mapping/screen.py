"""The create screen (createmeta) of one project and issue type, as the mapping reads it.

Pure: no I/O. The provider fetches createmeta; these types say which fields the screen has, which
are required or defaulted, their schema and their allowed values.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sentineliq.providers.base import ErrorKind, ProviderError


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
