"""The JSON shapes Jira Cloud answers with, built from the sandbox's model objects."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from sentineliq.sandbox.jira.clock import jira_timestamp
from sentineliq.sandbox.jira.links import LinkedIssue, issue_links_json
from sentineliq.sandbox.jira.model import (
    Attachment,
    Comment,
    FieldDef,
    Issue,
    IssueType,
    Priority,
    Project,
    Status,
    Transition,
    User,
)
from sentineliq.sandbox.jira.seed import FIELDS, FIELDS_BY_ID
from sentineliq.sandbox.jira.workflow import resolution_by_name

_ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
UserLookup = Callable[[str], User | None]
_CATEGORY = {
    "new": ("2", "To Do", "blue-gray"),
    "indeterminate": ("4", "In Progress", "yellow"),
    "done": ("3", "Done", "green"),
}
# Fields GET /issue returns when no `fields` parameter narrows them ("*navigable").
NAVIGABLE = tuple(f.id for f in FIELDS)


def avatar_urls(base: str, kind: str, ident: str) -> dict[str, str]:
    return {f"{n}x{n}": f"{base}/images/{kind}/{quote(ident)}?size={n}" for n in (48, 24, 16, 32)}


def user_json(user: User, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "self": f"{base}/rest/api/3/user?accountId={quote(user.account_id)}",
        "accountId": user.account_id,
        "accountType": user.account_type,
        "avatarUrls": avatar_urls(base, "avatar", user.account_id),
        "displayName": user.display_name,
        "active": user.active,
        "timeZone": "Etc/UTC",
        "locale": "en_US",
    }
    if user.email_visible:  # privacy-hidden addresses are left out, as on Cloud
        out["emailAddress"] = user.email
    return out


def issue_type_json(it: IssueType, base: str) -> dict[str, Any]:
    return {
        "self": f"{base}/rest/api/3/issuetype/{it.id}",
        "id": it.id,
        "description": it.description,
        "iconUrl": f"{base}/images/issuetype/{it.id}.svg",
        "name": it.name,
        "untranslatedName": it.name,
        "subtask": False,
        "hierarchyLevel": 0,
    }


def priority_json(priority: Priority, base: str) -> dict[str, Any]:
    return {
        "self": f"{base}/rest/api/3/priority/{priority.id}",
        "iconUrl": f"{base}/images/icons/priorities/{priority.name.lower()}.svg",
        "name": priority.name,
        "id": priority.id,
    }


def status_json(status: Status, base: str) -> dict[str, Any]:
    cat_id, cat_name, color = _CATEGORY[status.category.value]
    return {
        "self": f"{base}/rest/api/3/status/{status.id}",
        "description": "",
        "iconUrl": f"{base}/images/icons/statuses/generic.png",
        "name": status.name,
        "id": status.id,
        "statusCategory": {
            "self": f"{base}/rest/api/3/statuscategory/{cat_id}",
            "id": int(cat_id),
            "key": status.category.value,
            "colorName": color,
            "name": cat_name,
        },
    }


def transition_json(transition: Transition, base: str) -> dict[str, Any]:
    return {
        "id": transition.id,
        "name": transition.name,
        "to": status_json(transition.to, base),
        "hasScreen": False,
        "isGlobal": True,
        "isInitial": False,
        "isAvailable": True,
        "isConditional": False,
        "isLooped": False,
    }


def project_summary_json(project: Project, base: str) -> dict[str, Any]:
    return {
        "self": f"{base}/rest/api/3/project/{project.id}",
        "id": project.id,
        "key": project.key,
        "name": project.name,
        "projectTypeKey": "software",
        "simplified": False,
        "avatarUrls": avatar_urls(base, "project", project.id),
    }


def project_json(project: Project, base: str, users: UserLookup) -> dict[str, Any]:
    lead = users(project.lead_account_id)
    return {
        **project_summary_json(project, base),
        "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
        "description": "Security alerts and incidents (SentinelIQ sandbox).",
        "lead": user_json(lead, base) if lead else None,
        "components": [],
        "issueTypes": [issue_type_json(it, base) for it in project.issue_types],
        "assigneeType": "UNASSIGNED",
        "versions": [],
        "roles": {},
        "style": "classic",
        "isPrivate": False,
        "properties": {},
    }


def field_json(definition: FieldDef) -> dict[str, Any]:
    return {
        "id": definition.id,
        "key": definition.id,
        "name": definition.name,
        "untranslatedName": definition.name,
        "custom": definition.custom,
        "orderable": definition.kind != "readonly",
        "navigable": True,
        "searchable": True,
        "clauseNames": list(definition.clause_names or (definition.id,)),
        "schema": dict(definition.schema),
    }


def create_field_json(
    definition: FieldDef,
    project: Project,
    base: str,
    allowed: list[dict[str, Any]] | None,
    *,
    required: bool = False,
) -> dict[str, Any]:
    """`required`: the screen's field configuration makes it required (beyond the definition)."""
    out: dict[str, Any] = {
        "required": definition.required or required,
        "schema": dict(definition.schema),
        "name": definition.name,
        "fieldId": definition.id,
        "key": definition.id,
        "hasDefaultValue": definition.has_default,
        "operations": list(definition.operations),
    }
    if allowed is not None:
        out["allowedValues"] = allowed
    if definition.id == "priority":
        default = next(p for p in project.priorities if p.id == project.default_priority_id)
        out["defaultValue"] = priority_json(default, base)
    if definition.id in ("assignee", "reporter"):
        out["autoCompleteUrl"] = (
            f"{base}/rest/api/3/user/assignable/search?project={project.key}&query="
        )
    if definition.id == "labels":
        out["autoCompleteUrl"] = f"{base}/rest/api/1.0/labels/suggest?query="
    return out


def comment_json(
    comment: Comment,
    issue: Issue,
    base: str,
    users: UserLookup,
    *,
    with_properties: bool = False,
) -> dict[str, Any]:
    """`with_properties`: the caller asked for `expand=properties`; Cloud leaves them out
    otherwise."""
    author = users(comment.author_id)
    author_json = user_json(author, base) if author else None
    out: dict[str, Any] = {
        "self": f"{base}/rest/api/3/issue/{issue.id}/comment/{comment.id}",
        "id": comment.id,
        "author": author_json,
        "body": comment.body,
        "updateAuthor": author_json,
        "created": jira_timestamp(comment.created),
        "updated": jira_timestamp(comment.updated or comment.created),
        "jsdPublic": True,
    }
    if with_properties:
        out["properties"] = [{"key": k, "value": v} for k, v in comment.properties.items()]
    return out


def issue_fields_json(
    issue: Issue,
    project: Project,
    base: str,
    users: UserLookup,
    wanted: Iterable[str],
    linked: Mapping[str, LinkedIssue] | None = None,
) -> dict[str, Any]:
    """The `fields` object of an issue, restricted to `wanted` field ids. Unset fields are null,
    as on Cloud. `linked`: the issues at the other ends of its links (IssueSnapshot.linked)."""
    out: dict[str, Any] = {}
    for field_id in wanted:
        if field_id not in FIELDS_BY_ID:
            continue
        if field_id == "issuelinks":
            out[field_id] = issue_links_json(issue.id, issue.links, linked or {}, base, status_json)
            continue
        out[field_id] = _field_value(field_id, issue, project, base, users)
    return out


def _user_or_none(account_id: Any, base: str, users: UserLookup) -> dict[str, Any] | None:
    user = users(account_id) if isinstance(account_id, str) else None
    return user_json(user, base) if user else None


def _field_value(
    field_id: str, issue: Issue, project: Project, base: str, users: UserLookup
) -> Any:
    values = issue.values
    match field_id:
        case "project":
            return project_summary_json(project, base)
        case "issuetype":
            it = project.issue_type(issue.issue_type_id)
            return issue_type_json(it, base) if it else None
        case "priority":
            pr = next((p for p in project.priorities if p.id == values.get("priority")), None)
            return priority_json(pr, base) if pr else None
        case "assignee" | "reporter":
            return _user_or_none(values.get(field_id), base, users)
        case "creator":
            return _user_or_none(issue.creator_id, base, users)
        case "labels":
            return list(values.get("labels", []))
        case "status":
            return status_json(issue.status, base)
        case "created":
            return jira_timestamp(issue.created)
        case "updated":
            return jira_timestamp(issue.updated)
        case "resolution":
            found = resolution_by_name(issue.resolution)
            if found is None:
                return None
            return {
                "self": f"{base}/rest/api/3/resolution/{found.id}",
                "id": found.id,
                "description": found.description,
                "name": found.name,
            }
        case "resolutiondate":
            return jira_timestamp(issue.resolution_date) if issue.resolution_date else None
        case "comment":
            comments = [comment_json(c, issue, base, users) for c in issue.comments]
            return {
                "comments": comments,
                "self": f"{base}/rest/api/3/issue/{issue.id}/comment",
                "maxResults": len(comments),
                "total": len(comments),
                "startAt": 0,
            }
        case "attachment":
            return [attachment_json(a, base, users) for a in issue.attachments]
        case _:
            return values.get(field_id)


def attachment_json(attachment: Attachment, base: str, users: UserLookup) -> dict[str, Any]:
    """Jira's Attachment: id, filename, size, mimeType, created, author, content, self."""
    author = users(attachment.author_id)
    # UserDetails, as Cloud gives an attachment's author: a user without `locale`.
    details = (
        {k: v for k, v in user_json(author, base).items() if k != "locale"} if author else None
    )
    return {
        "self": f"{base}/rest/api/3/attachments/{attachment.id}",
        "id": attachment.id,
        "filename": attachment.filename,
        "author": details,
        "created": jira_timestamp(attachment.created),
        "size": attachment.size,
        "mimeType": attachment.mime_type,
        "content": f"{base}/rest/api/3/attachment/content/{attachment.id}",
    }


def issue_json(
    issue: Issue,
    project: Project,
    base: str,
    users: UserLookup,
    wanted: Iterable[str] = NAVIGABLE,
    property_keys: Iterable[str] = (),
    linked: Mapping[str, LinkedIssue] | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "expand": _ISSUE_EXPAND,
        "id": issue.id,
        "self": f"{base}/rest/api/3/issue/{issue.id}",
        "key": issue.key,
        "fields": issue_fields_json(issue, project, base, users, wanted, linked),
    }
    keys = list(property_keys)
    if keys:
        out["properties"] = {k: issue.properties[k] for k in keys if k in issue.properties}
    return out
