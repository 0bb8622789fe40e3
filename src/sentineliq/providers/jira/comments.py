"""Comments that are posted exactly once: each carries an idempotency marker as a comment
property, and a retry first looks for it.

A coalesced "fired again N times" comment is a non-idempotent POST. When its answer is lost
(timeout, dropped connection) the comment may exist; posting again would duplicate it. So every
comment SentinelIQ posts carries the comment property `sentineliq.delivery` = {"key": marker},
and before posting again the caller asks `find_comment(issue, marker)`. Comments are read
directly from the issue (GET .../comment), which has no search index and so no lag: an empty
answer really means "not there". Properties are invisible in Jira's UI, so the marker never
clutters what analysts read.

The look-up reads newest first (orderBy=-created, expand=properties), at most
`FIND_MAX_PAGES` pages of `FIND_PAGE_SIZE`: a retry follows its lost attempt within minutes, so
the comment sought is among the newest; a busy issue cannot make the look-up unbounded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sentineliq.providers.base import ErrorKind, ProviderError
from sentineliq.providers.jira.client import JiraClient

log = logging.getLogger(__name__)

MARKER_PROPERTY = "sentineliq.delivery"
MAX_MARKER_CHARS = 255
FIND_PAGE_SIZE = 100
FIND_MAX_PAGES = 10


def check_marker(marker: str) -> str:
    """The marker, or ValueError naming the field: a blank marker would match nothing later."""
    if not isinstance(marker, str) or not marker.strip():
        raise ValueError("marker: must be a non-empty string")
    if len(marker) > MAX_MARKER_CHARS:
        raise ValueError(f"marker: at most {MAX_MARKER_CHARS} characters")
    return marker


def comment_request(body: Mapping[str, Any], marker: str) -> dict[str, Any]:
    """The POST .../comment body: the ADF document plus the marker property."""
    if not isinstance(body, Mapping) or body.get("type") != "doc":
        raise ValueError("body: must be an Atlassian Document Format document (type 'doc')")
    return {
        "body": dict(body),
        "properties": [{"key": MARKER_PROPERTY, "value": {"key": check_marker(marker)}}],
    }


def carries_marker(comment: Mapping[str, Any], marker: str) -> bool:
    properties = comment.get("properties")
    if not isinstance(properties, list):
        return False
    for prop in properties:
        if not isinstance(prop, dict) or prop.get("key") != MARKER_PROPERTY:
            continue
        value = prop.get("value")
        if isinstance(value, dict) and value.get("key") == marker:
            return True
    return False


def post_comment(
    client: JiraClient,
    issue_key: str,
    body: Mapping[str, Any],
    *,
    marker: str,
    before_send: Callable[[], None] | None = None,
) -> str:
    """Post the comment with its marker; its id. A lost answer raises AMBIGUOUS (classified by
    the client): call `find_comment` before posting again."""
    answer = client.add_comment(issue_key, comment_request(body, marker), before_send=before_send)
    comment_id = answer.get("id")
    if not isinstance(comment_id, str | int) or isinstance(comment_id, bool) or not comment_id:
        raise ProviderError(
            ErrorKind.AMBIGUOUS,
            f"Jira accepted the comment on {issue_key} but its answer carried no comment id; "
            f"look it up by its marker {marker!r} before posting again",
        )
    return str(comment_id)


def find_comment(client: JiraClient, issue_key: str, marker: str) -> str | None:
    """The id of the newest comment on `issue_key` carrying `marker`, or None."""
    check_marker(marker)
    start = 0
    for _ in range(FIND_MAX_PAGES):
        page = client.comments_page(issue_key, start_at=start, max_results=FIND_PAGE_SIZE)
        comments = page.get("comments")
        if not isinstance(comments, list):
            raise ProviderError(
                ErrorKind.UNAVAILABLE,
                f"Jira's answer to the request to read the comments of {issue_key} has no "
                "'comments' list",
            )
        for comment in comments:
            found = comment.get("id") if isinstance(comment, dict) else None
            if isinstance(found, str | int) and found != "" and carries_marker(comment, marker):
                return str(found)
        start += len(comments)
        total = page.get("total")
        if not comments or (isinstance(total, int) and start >= total):
            return None
    log.warning(
        "jira %s: marker not among the newest %d comments; treating it as not posted",
        issue_key,
        start,
    )
    return None
