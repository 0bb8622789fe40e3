"""Jira Cloud's own rules for creating an issue, beyond the OpenAPI schema.

`IssueUpdateDetails.fields` is free-form in the spec, so everything that makes Jira answer 400 on
a create (required fields, screens, lengths, ADF, labels, users, priorities) is checked here, each
value by its field kind's checker in `fieldchecks`. All field problems are collected and reported
together, as Jira does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.fieldchecks import NOT_ON_SCREEN, Directory, Invalid, check_value
from sentineliq.sandbox.jira.model import IssueType, Project, Transition, User
from sentineliq.sandbox.jira.seed import FIELDS_BY_ID, TRANSITIONS

MAX_PROPERTY_KEY = 255
MAX_PROPERTY_BYTES = 32_768

NO_PERMISSION = "You do not have permission to create issues in this project."
# Required fields with messages of their own (summary below, project and issuetype: _resolve_*).
_BUILT_IN = frozenset({"summary", "project", "issuetype"})


@dataclass
class NewIssue:
    project: Project
    issue_type: IssueType
    values: dict[str, Any]
    properties: dict[str, Any]
    transition: Transition | None


def check_create(body: Mapping[str, Any], directory: Directory, caller: User) -> NewIssue:
    """Validate a create body (already schema-valid) and normalise its values.

    Raises JiraError: 400 with field errors, or 403 when the caller may not create issues.
    """
    fields: dict[str, Any] = dict(body.get("fields") or {})
    fields.update(_apply_update_ops(body.get("update") or {}, fields))

    project = _resolve_project(fields.get("project"), directory)
    if not caller.can_create:
        raise JiraError(403, [NO_PERMISSION])
    issue_type = _resolve_issue_type(fields.get("issuetype"), project)

    screen = set(directory.screen(project, issue_type))
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for field_id, raw in fields.items():
        if field_id in ("project", "issuetype"):
            continue
        definition = FIELDS_BY_ID.get(field_id)
        if field_id not in screen or definition is None:
            errors[field_id] = NOT_ON_SCREEN.format(field=field_id)
            continue
        try:
            value = check_value(definition, raw, project, directory)
        except Invalid as exc:
            errors[field_id] = str(exc)
            continue
        if value is not None:
            values[field_id] = value
    if "summary" not in errors and not values.get("summary"):
        errors["summary"] = "You must specify a summary of the issue."
    required = directory.required(project, issue_type)
    for field_id in directory.screen(project, issue_type):
        definition = FIELDS_BY_ID[field_id]
        mandatory = (definition.required or field_id in required) and not definition.has_default
        missing = values.get(field_id) in (None, "", [])
        if mandatory and missing and field_id not in _BUILT_IN and field_id not in errors:
            errors[field_id] = f"{definition.name} is required."

    messages: list[str] = []
    properties = _check_properties(body.get("properties") or [], messages)
    transition = _check_transition(body.get("transition"), messages)
    if errors or messages:
        raise JiraError(400, messages, errors)

    values.setdefault("reporter", caller.account_id)
    if "priority" in screen:
        values.setdefault("priority", project.default_priority_id)
    return NewIssue(project, issue_type, values, properties, transition)


def _apply_update_ops(update: Mapping[str, Any], fields: Mapping[str, Any]) -> dict[str, Any]:
    """Fold `update` operations ({"labels": [{"add": "x"}]}) into plain field values."""
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field_id, operations in update.items():
        if field_id in fields:
            errors[field_id] = f"Field '{field_id}' cannot be set in both 'fields' and 'update'."
            continue
        value: Any = None
        for op in operations:
            if len(op) != 1:
                errors[field_id] = "Each update operation must name exactly one of set/add/remove."
                break
            ((verb, arg),) = op.items()
            if verb == "set":
                value = arg
            elif verb in ("add", "remove") and field_id == "labels":
                current = list(value or [])
                value = [*current, arg] if verb == "add" else [x for x in current if x != arg]
            else:
                errors[field_id] = f"Operation '{verb}' is not supported for field '{field_id}'."
                break
        out[field_id] = value
    if errors:
        raise JiraError(400, [], errors)
    return out


def _ref(raw: Any, keys: tuple[str, ...]) -> str | None:
    """The first present reference (id/key/name) of a {"id": ...}-style object, as a string."""
    if not isinstance(raw, dict):
        return None
    for key in keys:
        value = raw.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def _resolve_project(raw: Any, directory: Directory) -> Project:
    ref = _ref(raw, ("id", "key"))
    project = directory.find_project(ref) if ref is not None else None
    if project is None:
        raise JiraError(400, [], {"project": "Specify a valid project ID or key"})
    return project


def _resolve_issue_type(raw: Any, project: Project) -> IssueType:
    if raw is None:
        raise JiraError(400, [], {"issuetype": "Specify an issue type"})
    ref = _ref(raw, ("id", "name"))
    issue_type = project.issue_type(ref) if ref is not None else None
    if issue_type is None:
        raise JiraError(400, [], {"issuetype": "The issue type selected is invalid."})
    return issue_type


def check_property(key: str, value: Any) -> str | None:
    """Why an issue property cannot be stored, or None."""
    if not key:
        return "The property key can't be null or empty."
    if len(key) > MAX_PROPERTY_KEY:
        return f"The property key can't be longer than {MAX_PROPERTY_KEY} characters."
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > MAX_PROPERTY_BYTES:
        return f"The property value can't be longer than {MAX_PROPERTY_BYTES} bytes."
    return None


def _check_properties(raw: list[Any], messages: list[str]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for item in raw:
        key = item.get("key") if isinstance(item, dict) else None
        if not isinstance(key, str) or "value" not in item:
            messages.append("Each issue property needs a 'key' and a 'value'.")
            continue
        problem = check_property(key, item["value"])
        if problem is not None:
            messages.append(problem)
            continue
        properties[key] = item["value"]
    return properties


def _check_transition(raw: Any, messages: list[str]) -> Transition | None:
    if raw is None:
        return None
    transition_id = raw.get("id") if isinstance(raw, dict) else None
    transition = find_transition(transition_id)
    if transition is None:
        messages.append(f"Transition id '{transition_id}' is not valid for this issue.")
    return transition


def find_transition(transition_id: Any) -> Transition | None:
    return next((t for t in TRANSITIONS if t.id == transition_id), None)
