"""The "relates to" link a new issue carries to the issue it follows (a problem that came back
after its ticket's reopen window).

The link travels in the create itself (`update.issuelinks`), so the issue and its link are made
by one request: no half-done state to repair after a crash. The link type is the site's
"Relates" (by name), or else any type whose inward and outward verbs are both "relates to"
(renamed by an admin); sites can delete it, and then the ticket is created without the link and
the link is reported as a dropped field, never holding the ticket back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

RELATES_NAME = "Relates"
RELATES_VERB = "relates to"
LINKS_FIELD = "issuelinks"
_ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]*-[1-9][0-9]*$")


def is_issue_key(value: str) -> bool:
    return bool(_ISSUE_KEY.match(value))


def relates_type(types: Sequence[dict[str, Any]]) -> dict[str, str] | None:
    """The reference ({"id": ...}) to use for the site's "relates to" link type, or None."""
    by_name = [t for t in types if str(t.get("name", "")).casefold() == RELATES_NAME.casefold()]
    by_verb = [
        t
        for t in types
        if str(t.get("inward", "")).casefold() == RELATES_VERB
        and str(t.get("outward", "")).casefold() == RELATES_VERB
    ]
    for found in (*by_name, *by_verb):
        if isinstance(found.get("id"), str) and found["id"]:
            return {"id": found["id"]}
        if isinstance(found.get("name"), str) and found["name"]:
            return {"name": found["name"]}
    return None


def relates_update(type_ref: dict[str, str], issue_key: str) -> list[dict[str, Any]]:
    """`update.issuelinks` making the new issue "relate to" `issue_key` (the new one is the
    link's source, so its own view shows the old issue as `outwardIssue`)."""
    return [{"add": {"type": type_ref, "outwardIssue": {"key": issue_key}}}]
