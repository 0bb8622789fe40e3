"""Jira Cloud's rules for editing an issue (PUT /issue/{key}), beyond the OpenAPI schema.

`fields` sets values; `update` applies operations (`set` for every field; `add`/`remove` for
labels). Each value is checked by its field kind's checker in `fieldchecks`, as on create; all
field problems come back together. The edit screen is the issue type's create screen without
project and issue type (those move an issue, which the edit call cannot do).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.fieldchecks import NOT_ON_SCREEN, Directory, Invalid, check_value
from sentineliq.sandbox.jira.model import FieldKind, Issue, Project
from sentineliq.sandbox.jira.seed import FIELDS_BY_ID

_NOT_EDITABLE = frozenset({"project", "issuetype"})
_LIST_OPS = frozenset({"set", "add", "remove"})


def check_edit(
    body: Mapping[str, Any], issue: Issue, project: Project, directory: Directory
) -> dict[str, Any]:
    """The issue's new values by field id (None clears a field); raises JiraError(400)."""
    fields: Mapping[str, Any] = body.get("fields") or {}
    update: Mapping[str, Any] = body.get("update") or {}
    if not fields and not update:
        raise JiraError(400, ["No fields or update operations were given to edit."])
    issue_type = project.issue_type(issue.issue_type_id)
    screen = set(directory.screen(project, issue_type)) if issue_type else set()
    errors: dict[str, str] = {}
    raw: dict[str, Any] = {}
    for field_id, value in fields.items():
        raw[field_id] = value
    for field_id, operations in update.items():
        if field_id in fields:
            errors[field_id] = f"Field '{field_id}' cannot be set in both 'fields' and 'update'."
            continue
        try:
            raw[field_id] = _apply_ops(field_id, operations, issue.values.get(field_id))
        except Invalid as exc:
            errors[field_id] = str(exc)

    out: dict[str, Any] = {}
    for field_id, value in raw.items():
        if field_id in errors:
            continue
        definition = FIELDS_BY_ID.get(field_id)
        if definition is None or field_id not in screen or field_id in _NOT_EDITABLE:
            errors[field_id] = NOT_ON_SCREEN.format(field=field_id)
            continue
        try:
            out[field_id] = check_value(definition, value, project, directory)
        except Invalid as exc:
            errors[field_id] = str(exc)
            continue
        if definition.required and out[field_id] in (None, "", []):
            errors[field_id] = (
                "You must specify a summary of the issue."
                if field_id == "summary"
                else f"{definition.name} is required."
            )
    if errors:
        raise JiraError(400, [], errors)
    return out


def _apply_ops(field_id: str, operations: Any, current: Any) -> Any:
    """Fold one field's operations over its current value."""
    definition = FIELDS_BY_ID.get(field_id)
    is_list = definition is not None and definition.kind is FieldKind.LABELS
    value = list(current or []) if is_list else current
    for op in operations:
        if not isinstance(op, Mapping) or len(op) != 1:
            raise Invalid("Each update operation must name exactly one of set/add/remove.")
        ((verb, arg),) = op.items()
        if verb == "set":
            value = arg
        elif is_list and verb in _LIST_OPS:
            items = list(value or [])
            value = [*items, arg] if verb == "add" else [x for x in items if x != arg]
        else:
            raise Invalid(f"Operation '{verb}' is not supported for field '{field_id}'.")
    return value
