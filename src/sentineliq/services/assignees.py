"""Assignee mappings: list, map and unmap a workspace's email -> account id, and the directory a
provider reads them through (see providers.base.AssigneeDirectory).

A mapping wins over any search by the ticket system: it is how operators assign the people whose
email Jira hides, or whose address matches several accounts.
"""

from __future__ import annotations

from collections.abc import Mapping

from sentineliq.services.context import AppContext
from sentineliq.storage.assignees import (
    AssigneeMappingRecord,
    AssigneeRepository,
    validate_account_id,
    validate_assignee_email,
)
from sentineliq.storage.db import Database

__all__ = [
    "AssigneeMappingRecord",
    "WorkspaceAssignees",
    "list_mappings",
    "map_assignee",
    "unmap_assignee",
    "validate_account_id",
    "validate_assignee_email",
]


class WorkspaceAssignees:
    """One workspace's mappings, read on every lookup so a change applies to the next ticket."""

    def __init__(self, db: Database, workspace_id: str) -> None:
        self._repository = AssigneeRepository(db)
        self.workspace_id = workspace_id

    def account_for(self, email: str) -> str | None:
        return self._repository.account_for(self.workspace_id, email)

    def __repr__(self) -> str:
        return f"WorkspaceAssignees(workspace_id={self.workspace_id!r})"


def list_mappings(app: AppContext, workspace_id: str) -> list[AssigneeMappingRecord]:
    return AssigneeRepository(app.db).list(workspace_id)


def map_assignee(
    app: AppContext,
    workspace_id: str,
    email: str,
    account_id: str,
    *,
    actor: str,
    origin: Mapping[str, str] | None = None,
) -> tuple[AssigneeMappingRecord, bool]:
    """Create or replace a mapping; (record, created). ValueError names the bad field."""
    return AssigneeRepository(app.db).put(
        workspace_id, email, account_id, actor=actor, origin=origin
    )


def unmap_assignee(
    app: AppContext,
    workspace_id: str,
    email: str,
    *,
    actor: str,
    origin: Mapping[str, str] | None = None,
) -> AssigneeMappingRecord:
    """Remove a mapping; NotFoundError when the email is not mapped."""
    return AssigneeRepository(app.db).delete(workspace_id, email, actor=actor, origin=origin)
