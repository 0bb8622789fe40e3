"""What every area of the API shares: the state, look-ups that answer Jira's 404s, and the
resolution of Jira's `fields` parameter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.model import Project, User
from sentineliq.sandbox.jira.state import IssueSnapshot, SandboxState
from sentineliq.sandbox.jira.views import NAVIGABLE, issue_json

API = "/rest/api/3"


class ApiBase:
    """Request handlers over a SandboxState; each area of the API is a subclass."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def _user(self, account_id: str) -> User | None:
        return self.state.find_user(account_id)

    def _project(self, ref: str) -> Project:
        project = self.state.find_project(ref)
        if project is None:
            kind = "id" if ref.isdigit() else "key"
            raise JiraError(404, [f"No project could be found with {kind} '{ref}'."])
        return project

    def _issue_json(
        self,
        snap: IssueSnapshot,
        base: str,
        wanted: Sequence[str] = NAVIGABLE,
        props: Sequence[str] = (),
    ) -> dict[str, Any]:
        return issue_json(snap.issue, snap.project, base, self._user, wanted, props, snap.linked)

    @staticmethod
    def _require_write(caller: User, action: str) -> None:
        if not caller.can_create:
            raise JiraError(403, [f"You do not have permission to {action}."])


def wanted_fields(requested: list[str], default: Sequence[str]) -> list[str]:
    """Resolve Jira's `fields` parameter: ids, `*all`, `*navigable`, and `-id` exclusions."""
    if not requested:
        return list(default)
    out: list[str] = []
    for name in requested:
        if name in ("*all", "*navigable"):
            out.extend(NAVIGABLE)
        elif not name.startswith("-"):
            out.append(name)
    excluded = {n[1:] for n in requested if n.startswith("-")}
    if excluded and not out:
        out = list(NAVIGABLE)
    return [f for f in dict.fromkeys(out) if f not in excluded]
