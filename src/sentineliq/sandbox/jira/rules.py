"""Jira Cloud's own rules for creating an issue, beyond the OpenAPI schema.

`IssueUpdateDetails.fields` is free-form in the spec, so everything that makes Jira answer 400 on
a create (required fields, screens, lengths, ADF, labels, users, priorities) is checked here. All
field problems are collected and reported together, as Jira does.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sentineliq.sandbox.jira.adf import adf_problem
from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.model import FieldDef, FieldKind, IssueType, Project, Transition, User
from sentineliq.sandbox.jira.seed import FIELDS_BY_ID, TRANSITIONS

MAX_SUMMARY = 255
MAX_LABEL = 255
MAX_TEXTFIELD = 255
MAX_PROPERTY_KEY = 255
MAX_PROPERTY_BYTES = 32_768

NOT_ON_SCREEN = "Field '{field}' cannot be set. It is not on the appropriate screen, or unknown."
NO_PERMISSION = "You do not have permission to create issues in this project."
# Required fields with their own checks and messages above.
_BUILT_IN = frozenset({"summary", "project", "issuetype"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Cloud identifies users by accountId only; these Server/DC identifiers are rejected.
_LEGACY_USER_KEYS = ("name", "key", "emailAddress", "username")


class Directory(Protocol):
    """What the rules need to look up; implemented by SandboxState (called under its lock)."""

    def find_project(self, ref: str) -> Project | None: ...

    def find_user(self, account_id: str) -> User | None: ...

    def screen(self, project: Project, issue_type: IssueType) -> tuple[str, ...]: ...

    def required(self, project: Project, issue_type: IssueType) -> frozenset[str]: ...


@dataclass
class NewIssue:
    project: Project
    issue_type: IssueType
    values: dict[str, Any]
    properties: dict[str, Any]
    transition: Transition | None


class _Invalid(Exception):
    """One field's value is wrong; the message is what Jira puts under errors[field]."""


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
            value = _check_value(definition, raw, project, directory)
        except _Invalid as exc:
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


def _check_value(definition: FieldDef, raw: Any, project: Project, directory: Directory) -> Any:
    checker = _CHECKERS[definition.kind]
    return checker(definition, raw, project, directory)


def _summary(_d: FieldDef, raw: Any, _p: Project, _dir: Directory) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise _Invalid("Operation value must be a string")
    if "\n" in raw or "\r" in raw:
        raise _Invalid("The summary is invalid because it contains newline characters.")
    if len(raw) > MAX_SUMMARY:
        raise _Invalid("Summary can't exceed 255 characters.")
    return raw.strip() or None


def _adf(_d: FieldDef, raw: Any, _p: Project, _dir: Directory) -> dict[str, Any] | None:
    if raw is None:
        return None
    problem = adf_problem(raw)
    if problem is not None:
        raise _Invalid(problem)
    doc: dict[str, Any] = raw
    return doc


def _labels(_d: FieldDef, raw: Any, _p: Project, _dir: Directory) -> list[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise _Invalid("Labels must be a list of strings.")
    labels: list[str] = []
    for label in raw:
        if not label:
            raise _Invalid("A label can't be empty.")
        if any(ch.isspace() for ch in label):
            raise _Invalid(f"The label '{label}' can't contain spaces.")
        if len(label) > MAX_LABEL:
            raise _Invalid(
                f"The label '{label}' exceeds the maximum length for a single label of "
                f"{MAX_LABEL} characters."
            )
        if label not in labels:  # Jira stores each label once
            labels.append(label)
    return labels


def _user(definition: FieldDef, raw: Any, _p: Project, directory: Directory) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _Invalid(f"Specify the {definition.id} as an object with an 'accountId'.")
    legacy = [k for k in _LEGACY_USER_KEYS if k in raw]
    if legacy:
        raise _Invalid(
            f"Specify a valid 'accountId' for {definition.id}; Jira Cloud identifies users by "
            f"accountId and does not accept '{legacy[0]}'."
        )
    if "accountId" not in raw:
        raise _Invalid(f"Specify a valid 'accountId' for {definition.id}.")
    account_id = raw["accountId"]
    if account_id is None or (definition.id == "assignee" and account_id == "-1"):
        return None  # unassigned / the project's default assignee (Unassigned)
    if not isinstance(account_id, str):
        raise _Invalid(f"Specify a valid 'accountId' for {definition.id}.")
    user = directory.find_user(account_id)
    if user is None or not user.active:
        raise _Invalid("Specified user does not exist or you do not have required permissions")
    if definition.id == "assignee" and not user.assignable:
        raise _Invalid(f"User '{account_id}' cannot be assigned issues.")
    return user.account_id


def _priority(_d: FieldDef, raw: Any, project: Project, _dir: Directory) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not any(k in raw for k in ("id", "name")):
        raise _Invalid("Specify the Priority (id or name) in the string format")
    ref = raw.get("id", raw.get("name"))
    if not isinstance(ref, str):
        raise _Invalid("Specify the Priority (id or name) in the string format")
    for priority in project.priorities:
        if priority.id == ref or priority.name.lower() == ref.lower():
            return priority.id
    raise _Invalid("The priority selected is invalid.")


def _date(_d: FieldDef, raw: Any, _p: Project, _dir: Directory) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, str) and _DATE.fullmatch(raw):
        try:
            return date.fromisoformat(raw).isoformat()
        except ValueError:
            pass
    raise _Invalid(f"Error parsing date string: {raw}")


def _number(_d: FieldDef, raw: Any, _p: Project, _dir: Directory) -> float | int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise _Invalid("Operation value must be a number")
    return raw


def _textfield(_d: FieldDef, raw: Any, _p: Project, _dir: Directory) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        # Single-line text fields take a plain string, never ADF (spec, createIssue).
        raise _Invalid("Operation value must be a string")
    if len(raw) > MAX_TEXTFIELD:
        raise _Invalid(
            "The entered text is too long. It exceeds the allowed limit of 255 characters."
        )
    return raw


def _one_option(definition: FieldDef, raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict) or not any(k in raw for k in ("id", "value")):
        raise _Invalid(f"Specify a valid 'id' or 'value' for {definition.name}")
    if "id" in raw:
        found = next((o for o in definition.options if o.id == raw["id"]), None)
        if found is None:
            raise _Invalid(f"Option id '{raw['id']}' is not valid")
    else:
        found = next((o for o in definition.options if o.value == raw["value"]), None)
        if found is None:
            raise _Invalid(f"Option value '{raw['value']}' is not valid")
    return {"id": found.id, "value": found.value}


def _option(definition: FieldDef, raw: Any, _p: Project, _dir: Directory) -> Any:
    if raw is None:
        return None
    return _one_option(definition, raw)


def _options(definition: FieldDef, raw: Any, _p: Project, _dir: Directory) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise _Invalid(f"Specify the values of {definition.name} as a list")
    return [_one_option(definition, item) for item in raw] or None


def _components(_d: FieldDef, raw: Any, project: Project, _dir: Directory) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        raise _Invalid("Please provide Component")
    out = []
    for item in raw:
        if "id" in item:
            found = next((c for c in project.components if c.id == item["id"]), None)
            if found is None:
                raise _Invalid(f"Component with id '{item['id']}' does not exist.")
        elif "name" in item:
            found = next((c for c in project.components if c.value == item["name"]), None)
            if found is None:
                raise _Invalid(f"Component name '{item['name']}' is not valid")
        else:
            raise _Invalid("Please provide Component")
        out.append({"id": found.id, "name": found.value})
    return out or None


def _unsettable(definition: FieldDef, _raw: Any, _p: Project, _dir: Directory) -> None:
    raise _Invalid(NOT_ON_SCREEN.format(field=definition.id))


_Checker = Callable[[FieldDef, Any, Project, Directory], Any]
_CHECKERS: dict[FieldKind, _Checker] = {
    FieldKind.SUMMARY: _summary,
    FieldKind.ADF: _adf,
    FieldKind.LABELS: _labels,
    FieldKind.USER: _user,
    FieldKind.PRIORITY: _priority,
    FieldKind.DATE: _date,
    FieldKind.NUMBER: _number,
    FieldKind.TEXTFIELD: _textfield,
    FieldKind.OPTION: _option,
    FieldKind.OPTIONS: _options,
    FieldKind.COMPONENTS: _components,
    FieldKind.PROJECT: _unsettable,
    FieldKind.ISSUETYPE: _unsettable,
    FieldKind.READONLY: _unsettable,
}


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
