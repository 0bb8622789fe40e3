"""The sandbox's default data, documented in the package docstring (client and demo rely on it)."""

from __future__ import annotations

from sentineliq.sandbox.jira.model import (
    FieldDef,
    FieldKind,
    IssueType,
    Option,
    Priority,
    Project,
    Status,
    StatusCategory,
    Transition,
    User,
    account_id_for,
)

ADMIN_EMAIL = "sandbox@sentineliq.test"
ADMIN_TOKEN = "sandbox-token"  # noqa: S105 - a published sandbox credential, not a secret
ANALYST_EMAIL = "analyst@sentineliq.test"
# A person to act as (transition, comment) when a test plays the analyst, not the integration.
ANALYST_TOKEN = "analyst-token"  # noqa: S105 - a published sandbox credential, not a secret
PRIVATE_EMAIL = "private@sentineliq.test"
READONLY_EMAIL = "readonly@sentineliq.test"
READONLY_TOKEN = "readonly-token"  # noqa: S105 - a published sandbox credential, not a secret
# Assignable people who hide their email, as most accounts on real sites do.
HIDDEN_EMAIL_USERS = (
    ("jordan.lee@sentineliq.test", "Jordan Lee"),
    ("casey.nguyen@sentineliq.test", "Casey Nguyen"),
    ("taylor.smith@sentineliq.test", "Taylor Smith"),
    ("devon.ortiz@sentineliq.test", "Devon Ortiz"),
)

PROJECT_ID = "10000"
PROJECT_KEY = "SEC"
PROJECT_NAME = "Security Operations"

THREAT_SCORE_FIELD = "customfield_10050"
ALERT_SOURCE_FIELD = "customfield_10051"
ANALYST_NOTES_FIELD = "customfield_10052"
# Defined but on no create screen until `JiraSandbox.require_field` puts them there.
TEAM_FIELD = "customfield_10060"
AFFECTED_SYSTEMS_FIELD = "customfield_10061"
TEAM_OPTIONS = (Option("10100", "Blue Team"), Option("10101", "Red Team"))
AFFECTED_OPTIONS = (
    Option("10110", "Endpoints"),
    Option("10111", "Network"),
    Option("10112", "Cloud"),
)
COMPONENTS = (Option("10200", "Detection"), Option("10201", "Response"))

_CF = "com.atlassian.jira.plugin.system.customfieldtypes:"


def seed_users() -> list[User]:
    return [
        User(
            account_id_for(ADMIN_EMAIL),
            ADMIN_EMAIL,
            "Sandbox Admin",
            api_token=ADMIN_TOKEN,
        ),
        User(account_id_for(ANALYST_EMAIL), ANALYST_EMAIL, "Alex Analyst", api_token=ANALYST_TOKEN),
        User(
            account_id_for(PRIVATE_EMAIL),
            PRIVATE_EMAIL,
            "Morgan Private",
            email_visible=False,
        ),
        User(
            account_id_for(READONLY_EMAIL),
            READONLY_EMAIL,
            "Riley Readonly",
            api_token=READONLY_TOKEN,
            can_create=False,
            assignable=False,
        ),
        *(
            User(account_id_for(email), email, name, email_visible=False)
            for email, name in HIDDEN_EMAIL_USERS
        ),
    ]


ISSUE_TYPES = (
    IssueType("10001", "Task", "A small, distinct piece of work."),
    IssueType("10002", "Bug", "A problem or error."),
    IssueType("10003", "Incident", "A security incident that needs a response."),
)

PRIORITIES = (
    Priority("1", "Highest", "#d04437"),
    Priority("2", "High", "#f15C75"),
    Priority("3", "Medium", "#f79232"),
    Priority("4", "Low", "#707070"),
    Priority("5", "Lowest", "#999999"),
)

TO_DO = Status("10000", "To Do", StatusCategory.NEW)
IN_PROGRESS = Status("3", "In Progress", StatusCategory.INDETERMINATE)
DONE = Status("10001", "Done", StatusCategory.DONE)
STATUSES = (TO_DO, IN_PROGRESS, DONE)

# A simplified workflow: every status is reachable from every other one.
TRANSITIONS = (
    Transition("11", "To Do", TO_DO),
    Transition("21", "In Progress", IN_PROGRESS),
    Transition("31", "Done", DONE),
)


def seed_project(lead_account_id: str) -> Project:
    return Project(
        id=PROJECT_ID,
        key=PROJECT_KEY,
        name=PROJECT_NAME,
        lead_account_id=lead_account_id,
        issue_types=ISSUE_TYPES,
        priorities=PRIORITIES,
        default_priority_id="3",
        components=COMPONENTS,
    )


def _system(type_: str, system: str, **extra: str) -> dict[str, str]:
    return {"type": type_, "system": system, **extra}


def _custom(type_: str, custom_type: str, custom_id: int) -> dict[str, object]:
    return {"type": type_, "custom": _CF + custom_type, "customId": custom_id}


FIELDS: tuple[FieldDef, ...] = (
    FieldDef(
        "summary",
        "Summary",
        FieldKind.SUMMARY,
        _system("string", "summary"),
        required=True,
        clause_names=("summary",),
    ),
    FieldDef(
        "description",
        "Description",
        FieldKind.ADF,
        _system("string", "description"),
        clause_names=("description",),
    ),
    FieldDef(
        "issuetype",
        "Issue Type",
        FieldKind.ISSUETYPE,
        _system("issuetype", "issuetype"),
        operations=(),
        required=True,
        clause_names=("issuetype", "type"),
    ),
    FieldDef(
        "project",
        "Project",
        FieldKind.PROJECT,
        _system("project", "project"),
        required=True,
        clause_names=("project",),
    ),
    FieldDef(
        "priority",
        "Priority",
        FieldKind.PRIORITY,
        _system("priority", "priority"),
        has_default=True,
        clause_names=("priority",),
    ),
    FieldDef(
        "labels",
        "Labels",
        FieldKind.LABELS,
        _system("array", "labels", items="string"),
        operations=("add", "set", "remove"),
        clause_names=("labels",),
    ),
    FieldDef(
        "assignee",
        "Assignee",
        FieldKind.USER,
        _system("user", "assignee"),
        clause_names=("assignee",),
    ),
    FieldDef(
        "reporter",
        "Reporter",
        FieldKind.USER,
        _system("user", "reporter"),
        required=True,
        has_default=True,
        clause_names=("reporter",),
    ),
    FieldDef(
        "duedate",
        "Due date",
        FieldKind.DATE,
        _system("date", "duedate"),
        clause_names=("due", "duedate"),
    ),
    FieldDef(
        THREAT_SCORE_FIELD,
        "Threat score",
        FieldKind.NUMBER,
        _custom("number", "float", 10050),
        clause_names=("cf[10050]", "Threat score"),
    ),
    FieldDef(
        ALERT_SOURCE_FIELD,
        "Alert source",
        FieldKind.TEXTFIELD,
        _custom("string", "textfield", 10051),
        clause_names=("cf[10051]", "Alert source"),
    ),
    FieldDef(
        ANALYST_NOTES_FIELD,
        "Analyst notes",
        FieldKind.ADF,
        _custom("string", "textarea", 10052),
        clause_names=("cf[10052]", "Analyst notes"),
    ),
    FieldDef(
        TEAM_FIELD,
        "Team",
        FieldKind.OPTION,
        _custom("option", "select", 10060),
        clause_names=("cf[10060]", "Team"),
        options=TEAM_OPTIONS,
    ),
    FieldDef(
        AFFECTED_SYSTEMS_FIELD,
        "Affected systems",
        FieldKind.OPTIONS,
        {**_custom("array", "multiselect", 10061), "items": "option"},
        operations=("add", "set", "remove"),
        clause_names=("cf[10061]", "Affected systems"),
        options=AFFECTED_OPTIONS,
    ),
    FieldDef(
        "components",
        "Components",
        FieldKind.COMPONENTS,
        _system("array", "components", items="component"),
        operations=("add", "set", "remove"),
        clause_names=("component",),
    ),
    # Read-only system fields: listed by GET /field and returned on issues, never settable.
    FieldDef("status", "Status", FieldKind.READONLY, _system("status", "status"), ()),
    FieldDef("created", "Created", FieldKind.READONLY, _system("datetime", "created"), ()),
    FieldDef("updated", "Updated", FieldKind.READONLY, _system("datetime", "updated"), ()),
    FieldDef(
        "resolution", "Resolution", FieldKind.READONLY, _system("resolution", "resolution"), ()
    ),
    FieldDef(
        "resolutiondate",
        "Resolved",
        FieldKind.READONLY,
        _system("datetime", "resolutiondate"),
        (),
    ),
    FieldDef("creator", "Creator", FieldKind.READONLY, _system("user", "creator"), ()),
    # Set only through `update.issuelinks` (links.py); on the default create screen, as on Cloud.
    FieldDef(
        "issuelinks",
        "Linked Issues",
        FieldKind.READONLY,
        _system("array", "issuelinks", items="issuelinks"),
        ("add",),
    ),
    FieldDef(
        "comment",
        "Comment",
        FieldKind.READONLY,
        _system("comments-page", "comment"),
        ("add", "edit", "remove"),
    ),
    # Added by POST /issue/{key}/attachments (api/attachments.py), never through the create.
    FieldDef(
        "attachment",
        "Attachment",
        FieldKind.READONLY,
        _system("array", "attachment", items="attachment"),
        (),
    ),
)

FIELDS_BY_ID = {f.id: f for f in FIELDS}

# Every seeded issue type's create screen holds these fields, in this order.
CREATE_SCREEN: tuple[str, ...] = (
    "summary",
    "issuetype",
    "project",
    "description",
    "priority",
    "labels",
    "assignee",
    "reporter",
    "duedate",
    THREAT_SCORE_FIELD,
    ALERT_SOURCE_FIELD,
    ANALYST_NOTES_FIELD,
    "issuelinks",
)

# Removing these would make creating issues impossible, which Jira does not allow either.
UNREMOVABLE_FIELDS = frozenset({"summary", "issuetype", "project"})
