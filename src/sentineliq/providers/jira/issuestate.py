"""Reading an issue's lifecycle state (status, category, resolution, priority) from Jira JSON.

Shared by every reader of issues: the worker's status check before it comments or reopens, the
reconcile poll (search/jql) and the webhook receiver (the `issue` of an issue_updated event).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sentineliq.providers.base import IssueState, StatusCategory

# The fields to ask for (GET issue?fields=..., search/jql "fields").
ISSUE_STATE_FIELDS = ("status", "resolution", "resolutiondate", "priority", "updated")


def jira_datetime(value: Any) -> datetime | None:
    """Jira's timestamps ("2026-12-02T12:00:00.000+0000"); None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    text = value
    # Python < 3.12 does not read "+0000": insert the colon of the offset.
    if len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _name(value: Any) -> str | None:
    if isinstance(value, Mapping):
        name = value.get("name")
        return name if isinstance(name, str) and name else None
    return None


def parse_issue_state(raw: Mapping[str, Any]) -> IssueState:
    """The state of one issue as Jira returns it (`fields` holding at least ISSUE_STATE_FIELDS).

    Raises ValueError when the issue's id, key or status is missing: a state that cannot be
    read must not be mistaken for "open".
    """
    fields = raw.get("fields")
    if not isinstance(fields, Mapping):
        raise ValueError("the issue has no fields")
    status = fields.get("status")
    status_name = _name(status)
    category_raw = status.get("statusCategory") if isinstance(status, Mapping) else None
    category_key = category_raw.get("key") if isinstance(category_raw, Mapping) else None
    issue_id, key = raw.get("id"), raw.get("key")
    if not isinstance(issue_id, str | int) or not isinstance(key, str) or status_name is None:
        raise ValueError("the issue's id, key or status is missing")
    if category_key not in set(StatusCategory):
        raise ValueError(f"unknown status category {category_key!r}")
    category = StatusCategory(category_key)
    return IssueState(
        id=str(issue_id),
        key=key,
        status=status_name,
        status_category=category,
        resolution=_name(fields.get("resolution")),
        resolved_at=jira_datetime(fields.get("resolutiondate")),
        priority=_name(fields.get("priority")),
        updated_at=jira_datetime(fields.get("updated")),
    )
