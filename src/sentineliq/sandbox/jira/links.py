"""Issue links: the site's link types, links between two issues, and their JSON shapes.

Jira's model (developer.atlassian.com/cloud/jira/platform/issue-linking-model): a link goes from
a source issue to a target issue and has a type with an `outward` verb ("blocks") and an `inward`
one ("is blocked by"). GET issue shows each link from that issue's side: the source lists the
target as `outwardIssue` ("SEC-1 blocks SEC-2"), the target lists the source as `inwardIssue`.

Two ways to make one, both modelled here:
- `update.issuelinks` on create (and edit): `{"add": {"type": {...}, "outwardIssue": {"key": K}}}`
  uses the issue-side view, so the new issue is the source; `inwardIssue` makes it the target.
- POST /issueLink: the `outwardIssue` is the "from" issue (the docs: "add a comment to the from
  (outward) issue"), so it is the source and `inwardIssue` the target.
A default Cloud site has Blocks, Cloners, Duplicate and Relates; `Relates` reads "relates to"
both ways.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sentineliq.sandbox.jira.model import Status

ISSUE_LINKS_FIELD = "issuelinks"


@dataclass(frozen=True)
class LinkType:
    id: str
    name: str
    inward: str
    outward: str


@dataclass(frozen=True)
class IssueLink:
    id: str
    type: LinkType
    source_id: str  # shows the target as `outwardIssue`
    target_id: str  # shows the source as `inwardIssue`


@dataclass(frozen=True)
class LinkedIssue:
    """What a link shows of the issue at its other end (read live, at snapshot time)."""

    id: str
    key: str
    summary: str
    status: Status
    priority_id: str | None
    issue_type_id: str


def seed_link_types() -> tuple[LinkType, ...]:
    return (
        LinkType("10000", "Blocks", "is blocked by", "blocks"),
        LinkType("10001", "Cloners", "is cloned by", "clones"),
        LinkType("10002", "Duplicate", "is duplicated by", "duplicates"),
        LinkType("10003", "Relates", "relates to", "relates to"),
    )


def find_link_type(types: Iterable[LinkType], raw: Any) -> LinkType | None:
    """By `id`, else by `name` (case-insensitive, as Jira matches link type names)."""
    if not isinstance(raw, dict):
        return None
    ref_id, name = raw.get("id"), raw.get("name")
    for link_type in types:
        if isinstance(ref_id, str) and ref_id and link_type.id == ref_id:
            return link_type
        if isinstance(name, str) and name and link_type.name.lower() == name.lower():
            return link_type
    return None


def issue_ref(raw: Any) -> str | None:
    """The `key` or `id` of a LinkedIssue object."""
    if not isinstance(raw, dict):
        return None
    for name in ("key", "id"):
        value = raw.get(name)
        if isinstance(value, str) and value:
            return value
    return None


@dataclass(frozen=True)
class LinkRequest:
    """One `update.issuelinks` add, resolved: the other issue and which end the new one is."""

    type: LinkType
    other_id: str
    new_is_source: bool


def split_link_updates(body: Mapping[str, Any]) -> tuple[dict[str, Any], list[Any]]:
    """The create body without `update.issuelinks`, and those operations."""
    update = body.get("update")
    if not isinstance(update, dict) or ISSUE_LINKS_FIELD not in update:
        return dict(body), []
    rest = {k: v for k, v in update.items() if k != ISSUE_LINKS_FIELD}
    ops = update[ISSUE_LINKS_FIELD]
    return {**body, "update": rest}, list(ops) if isinstance(ops, list) else [ops]


def resolve_link_updates(
    ops: list[Any],
    types: Iterable[LinkType],
    find_issue_id: Callable[[str], str | None],
) -> tuple[list[LinkRequest], str | None]:
    """Resolve `update.issuelinks` operations; (requests, the first problem or None)."""
    known = tuple(types)
    out: list[LinkRequest] = []
    for op in ops:
        add = op.get("add") if isinstance(op, dict) and len(op) == 1 else None
        if not isinstance(add, dict):
            return [], "Issue links can only be added when an issue is created ('add')."
        link_type = find_link_type(known, add.get("type"))
        if link_type is None:
            return [], "Issue link type is not valid: no link type with that name or id exists."
        outward, inward = issue_ref(add.get("outwardIssue")), issue_ref(add.get("inwardIssue"))
        if (outward is None) == (inward is None):
            return [], "An issue link needs exactly one of 'outwardIssue' or 'inwardIssue'."
        ref = outward or inward or ""
        other = find_issue_id(ref)
        if other is None:
            return [], f"Issue '{ref}' does not exist or you do not have permission to see it."
        out.append(LinkRequest(link_type, other, new_is_source=outward is not None))
    return out, None


def link_type_json(link_type: LinkType, base: str) -> dict[str, Any]:
    return {
        "id": link_type.id,
        "name": link_type.name,
        "inward": link_type.inward,
        "outward": link_type.outward,
        "self": f"{base}/rest/api/3/issueLinkType/{link_type.id}",
    }


def issue_links_json(
    issue_id: str,
    links: Iterable[IssueLink],
    linked: Mapping[str, LinkedIssue],
    base: str,
    status_json: Callable[[Status, str], dict[str, Any]],
) -> list[dict[str, Any]]:
    """`fields.issuelinks` of one issue: each link from this issue's side."""
    out = []
    for link in links:
        outward = link.source_id == issue_id
        other = linked.get(link.target_id if outward else link.source_id)
        if other is None:
            continue
        out.append(
            {
                "id": link.id,
                "self": f"{base}/rest/api/3/issueLink/{link.id}",
                "type": link_type_json(link.type, base),
                "outwardIssue" if outward else "inwardIssue": {
                    "id": other.id,
                    "key": other.key,
                    "self": f"{base}/rest/api/3/issue/{other.id}",
                    "fields": {
                        "summary": other.summary,
                        "status": status_json(other.status, base),
                    },
                },
            }
        )
    return out
