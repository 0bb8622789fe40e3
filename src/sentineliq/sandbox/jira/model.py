"""The sandbox's domain objects: users, projects, issue types, fields, issues.

Plain data. The thread-safe container is `state.SandboxState`; the JSON shapes Jira answers with
are built in `views`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sentineliq.sandbox.jira.links import IssueLink


def account_id_for(email: str) -> str:
    """A stable Atlassian-style account id, so seeded ids are the same on every run."""
    return "712020:" + str(uuid.uuid5(uuid.NAMESPACE_URL, "sentineliq-sandbox:" + email.lower()))


ACCOUNT_TYPES = ("atlassian", "app", "customer")


@dataclass
class User:
    account_id: str
    email: str
    display_name: str
    api_token: str | None = field(default=None, repr=False)  # never in reprs or logs
    can_browse_users: bool = True
    can_create: bool = True  # create issues, comment, transition, set properties
    email_visible: bool = True
    active: bool = True
    assignable: bool = True
    account_type: str = "atlassian"  # or "app" / "customer", as Cloud's User.accountType


@dataclass(frozen=True)
class IssueType:
    id: str
    name: str
    description: str


@dataclass(frozen=True)
class Priority:
    id: str
    name: str
    color: str


class StatusCategory(StrEnum):
    NEW = "new"
    INDETERMINATE = "indeterminate"
    DONE = "done"


@dataclass(frozen=True)
class Status:
    id: str
    name: str
    category: StatusCategory


@dataclass(frozen=True)
class Transition:
    id: str
    name: str
    to: Status


class FieldKind(StrEnum):
    """How the sandbox type-checks a field's value on create."""

    SUMMARY = "summary"
    ADF = "adf"  # description and textarea custom fields
    LABELS = "labels"
    USER = "user"
    PRIORITY = "priority"
    PROJECT = "project"
    ISSUETYPE = "issuetype"
    DATE = "date"
    NUMBER = "number"
    TEXTFIELD = "textfield"
    OPTION = "option"  # single select: {"value"} or {"id"} of one of `options`
    OPTIONS = "options"  # multi-select: a list of those
    COMPONENTS = "components"  # a list of {"name"} or {"id"} of the project's components
    READONLY = "readonly"  # status, created, ...: listed by /field, never settable


@dataclass(frozen=True)
class Option:
    """A select-list option, or (with `name` semantics) a project component."""

    id: str
    value: str


@dataclass(frozen=True)
class FieldDef:
    id: str
    name: str
    kind: FieldKind
    schema: dict[str, Any]
    operations: tuple[str, ...] = ("set",)
    required: bool = False
    has_default: bool = False
    clause_names: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()  # select lists; components live on the project

    @property
    def custom(self) -> bool:
        return self.id.startswith("customfield_")


@dataclass
class Project:
    id: str
    key: str
    name: str
    lead_account_id: str
    issue_types: tuple[IssueType, ...]
    priorities: tuple[Priority, ...]
    default_priority_id: str
    components: tuple[Option, ...] = ()

    def issue_type(self, ref: str) -> IssueType | None:
        """Resolve an issue type by id or (case-insensitive) name."""
        for it in self.issue_types:
            if it.id == ref or it.name.lower() == ref.lower():
                return it
        return None


@dataclass
class Comment:
    id: str
    author_id: str
    body: dict[str, Any]
    created: datetime
    updated: datetime | None = None  # None: never edited, `created` stands
    properties: dict[str, Any] = field(default_factory=dict)  # comment entity properties


@dataclass
class Attachment:
    id: str
    filename: str
    size: int
    mime_type: str
    created: datetime
    author_id: str
    content: bytes = field(repr=False)


@dataclass
class Issue:
    id: str
    key: str
    project_id: str
    issue_type_id: str
    # Settable fields, normalised: priority -> priority id, assignee/reporter -> account id,
    # description/textarea -> ADF dict, duedate -> "YYYY-MM-DD".
    values: dict[str, Any]
    status: Status
    creator_id: str
    created: datetime
    updated: datetime
    visible_at: float  # sandbox-clock time from which search finds the issue
    resolution: str | None = None
    resolution_date: datetime | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)
    links: list[IssueLink] = field(default_factory=list)  # on both of a link's issues
    attachments: list[Attachment] = field(default_factory=list)
