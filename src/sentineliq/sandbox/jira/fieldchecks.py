"""Jira Cloud's check of each field value on a create, by field kind: one checker a kind.

A checker returns the value as stored (None when the field is left empty) or raises `Invalid`
with the message Jira puts under errors[field]. `rules.check_create` runs them over a create.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from sentineliq.sandbox.jira.adf import adf_problem
from sentineliq.sandbox.jira.model import FieldDef, FieldKind, IssueType, Project, User

MAX_SUMMARY = 255
MAX_LABEL = 255
MAX_TEXTFIELD = 255

NOT_ON_SCREEN = "Field '{field}' cannot be set. It is not on the appropriate screen, or unknown."
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Cloud identifies users by accountId only; these Server/DC identifiers are rejected.
_LEGACY_USER_KEYS = ("name", "key", "emailAddress", "username")


class Directory(Protocol):
    """What the rules need to look up; implemented by SandboxState (called under its lock)."""

    def find_project(self, ref: str) -> Project | None: ...

    def find_user(self, account_id: str) -> User | None: ...

    def screen(self, project: Project, issue_type: IssueType) -> tuple[str, ...]: ...

    def required(self, project: Project, issue_type: IssueType) -> frozenset[str]: ...


class Invalid(Exception):
    """One field's value is wrong; the message is what Jira puts under errors[field]."""


def check_value(definition: FieldDef, raw: Any, project: Project, directory: Directory) -> Any:
    checker = _CHECKERS[definition.kind]
    return checker(definition, raw, project, directory)


def _summary(_d: FieldDef, raw: Any, _p: Project, _dir: Directory) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise Invalid("Operation value must be a string")
    if "\n" in raw or "\r" in raw:
        raise Invalid("The summary is invalid because it contains newline characters.")
    if len(raw) > MAX_SUMMARY:
        raise Invalid("Summary can't exceed 255 characters.")
    return raw.strip() or None


def _adf(_d: FieldDef, raw: Any, _p: Project, _dir: Directory) -> dict[str, Any] | None:
    if raw is None:
        return None
    problem = adf_problem(raw)
    if problem is not None:
        raise Invalid(problem)
    doc: dict[str, Any] = raw
    return doc


def _labels(_d: FieldDef, raw: Any, _p: Project, _dir: Directory) -> list[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise Invalid("Labels must be a list of strings.")
    labels: list[str] = []
    for label in raw:
        if not label:
            raise Invalid("A label can't be empty.")
        if any(ch.isspace() for ch in label):
            raise Invalid(f"The label '{label}' can't contain spaces.")
        if len(label) > MAX_LABEL:
            raise Invalid(
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
        raise Invalid(f"Specify the {definition.id} as an object with an 'accountId'.")
    legacy = [k for k in _LEGACY_USER_KEYS if k in raw]
    if legacy:
        raise Invalid(
            f"Specify a valid 'accountId' for {definition.id}; Jira Cloud identifies users by "
            f"accountId and does not accept '{legacy[0]}'."
        )
    if "accountId" not in raw:
        raise Invalid(f"Specify a valid 'accountId' for {definition.id}.")
    account_id = raw["accountId"]
    if account_id is None or (definition.id == "assignee" and account_id == "-1"):
        return None  # unassigned / the project's default assignee (Unassigned)
    if not isinstance(account_id, str):
        raise Invalid(f"Specify a valid 'accountId' for {definition.id}.")
    user = directory.find_user(account_id)
    if user is None or not user.active:
        raise Invalid("Specified user does not exist or you do not have required permissions")
    if definition.id == "assignee" and not user.assignable:
        raise Invalid(f"User '{account_id}' cannot be assigned issues.")
    return user.account_id


def _priority(_d: FieldDef, raw: Any, project: Project, _dir: Directory) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not any(k in raw for k in ("id", "name")):
        raise Invalid("Specify the Priority (id or name) in the string format")
    ref = raw.get("id", raw.get("name"))
    if not isinstance(ref, str):
        raise Invalid("Specify the Priority (id or name) in the string format")
    for priority in project.priorities:
        if priority.id == ref or priority.name.lower() == ref.lower():
            return priority.id
    raise Invalid("The priority selected is invalid.")


def _date(_d: FieldDef, raw: Any, _p: Project, _dir: Directory) -> str | None:
    if raw is None:
        return None
    if isinstance(raw, str) and _DATE.fullmatch(raw):
        try:
            return date.fromisoformat(raw).isoformat()
        except ValueError:
            pass
    raise Invalid(f"Error parsing date string: {raw}")


def _number(_d: FieldDef, raw: Any, _p: Project, _dir: Directory) -> float | int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        raise Invalid("Operation value must be a number")
    return raw


def _textfield(_d: FieldDef, raw: Any, _p: Project, _dir: Directory) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        # Single-line text fields take a plain string, never ADF (spec, createIssue).
        raise Invalid("Operation value must be a string")
    if len(raw) > MAX_TEXTFIELD:
        raise Invalid(
            "The entered text is too long. It exceeds the allowed limit of 255 characters."
        )
    return raw


def _one_option(definition: FieldDef, raw: Any) -> dict[str, str]:
    if not isinstance(raw, dict) or not any(k in raw for k in ("id", "value")):
        raise Invalid(f"Specify a valid 'id' or 'value' for {definition.name}")
    if "id" in raw:
        found = next((o for o in definition.options if o.id == raw["id"]), None)
        if found is None:
            raise Invalid(f"Option id '{raw['id']}' is not valid")
    else:
        found = next((o for o in definition.options if o.value == raw["value"]), None)
        if found is None:
            raise Invalid(f"Option value '{raw['value']}' is not valid")
    return {"id": found.id, "value": found.value}


def _option(definition: FieldDef, raw: Any, _p: Project, _dir: Directory) -> Any:
    if raw is None:
        return None
    return _one_option(definition, raw)


def _options(definition: FieldDef, raw: Any, _p: Project, _dir: Directory) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise Invalid(f"Specify the values of {definition.name} as a list")
    return [_one_option(definition, item) for item in raw] or None


def _components(_d: FieldDef, raw: Any, project: Project, _dir: Directory) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        raise Invalid("Please provide Component")
    out = []
    for item in raw:
        if "id" in item:
            found = next((c for c in project.components if c.id == item["id"]), None)
            if found is None:
                raise Invalid(f"Component with id '{item['id']}' does not exist.")
        elif "name" in item:
            found = next((c for c in project.components if c.value == item["name"]), None)
            if found is None:
                raise Invalid(f"Component name '{item['name']}' is not valid")
        else:
            raise Invalid("Please provide Component")
        out.append({"id": found.id, "name": found.value})
    return out or None


def _unsettable(definition: FieldDef, _raw: Any, _p: Project, _dir: Directory) -> None:
    raise Invalid(NOT_ON_SCREEN.format(field=definition.id))


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
