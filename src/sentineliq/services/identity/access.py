"""Who is calling and what they may do: principals, workspace roles, permissions, memberships.

Two refusals, kept apart on purpose: `NotVisible` (the workspace is not the principal's, answer
404 so its existence is not revealed) and `AccessDenied` (visible but not allowed, answer 403).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from sentineliq.errors import AccessError
from sentineliq.services.identity.origin import audit_origin
from sentineliq.storage.users import UserRecord, UserRepository
from sentineliq.storage.workspaces import WorkspaceRecord


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class Permission(StrEnum):
    VIEW = "view"  # alerts, deliveries, tickets
    INGEST = "ingest"
    MANAGE_PROVIDERS = "manage_providers"  # see/change provider settings, test, enable, delete
    REPLAY = "replay"
    MANAGE_KEYS = "manage_keys"
    VIEW_AUDIT = "view_audit"
    TRIAGE = "triage"  # resolve, dismiss or reopen an alert (a resolve moves its tickets)


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.MEMBER: frozenset({Permission.VIEW, Permission.TRIAGE}),  # analysts close their alerts
    Role.ADMIN: frozenset(Permission),
    Role.OWNER: frozenset(Permission),
}
# Keys live in alert sources (SIEMs, scripts): a leaked one can add alerts and resolve or dismiss
# them (a source closing what it raised), never read the workspace or change its settings.
API_KEY_PERMISSIONS: frozenset[Permission] = frozenset({Permission.INGEST, Permission.TRIAGE})


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "api_key", "url_token"]
    id: str  # user id, API key id or input URL token id
    name: str  # email or key name
    user_id: str | None
    workspace_id: str | None  # an API key is bound to one workspace; users have None

    @property
    def actor(self) -> str:
        """How this principal is named in the audit log."""
        if self.kind == "url_token":
            return f"url_token:{self.name}"[:200]
        return self.name if self.kind == "user" else f"api_key:{self.name}"[:200]


class AccessDenied(AccessError):
    """The workspace is visible to the principal, but the action is not allowed (HTTP 403)."""


class NotVisible(AccessError):
    """The principal has no access to the workspace at all (HTTP 404: never reveal it exists)."""


class WorkspaceAccess:
    """Memberships (a user's role per workspace) and the permission checks built on them."""

    def __init__(self, users: UserRepository, clock: Callable[[], datetime]) -> None:
        self._users = users
        self._clock = clock

    def add_member(
        self,
        workspace_id: str,
        user_id: str,
        role: Role,
        *,
        actor: str,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> None:
        """Add the user to the workspace with `role`, or change their role there.

        NotFoundError if the user or the workspace does not exist.
        """
        self._users.set_membership(
            workspace_id,
            user_id,
            Role(role).value,
            actor=actor,
            origin=audit_origin(ip, user_agent),
            now=self._clock(),
        )

    def workspaces_of(self, user_id: str) -> list[tuple[WorkspaceRecord, Role]]:
        return [(ws, Role(role)) for ws, role in self._users.workspaces_of(user_id)]

    def members_of(self, workspace_id: str) -> list[tuple[UserRecord, Role]]:
        return [(user, Role(role)) for user, role in self._users.members_of(workspace_id)]

    def role_in(self, principal: Principal, workspace_id: str) -> Role | None:
        """The user's role in the workspace. An API key has none: Role.MEMBER in its own
        workspace (so it counts as visible; its permissions are API_KEY_PERMISSIONS), else None."""
        if principal.kind == "api_key":
            return Role.MEMBER if principal.workspace_id == workspace_id else None
        if principal.user_id is None:
            return None
        role = self._users.role_in(principal.user_id, workspace_id)
        return Role(role) if role is not None else None

    def permissions(self, principal: Principal, workspace_id: str) -> frozenset[Permission]:
        """Everything the principal may do in the workspace (empty: not visible)."""
        if principal.kind == "api_key":
            return API_KEY_PERMISSIONS if principal.workspace_id == workspace_id else frozenset()
        role = self.role_in(principal, workspace_id)
        return ROLE_PERMISSIONS[role] if role is not None else frozenset()

    def authorize(self, principal: Principal, workspace_id: str, permission: Permission) -> None:
        """NotVisible if the workspace is not the principal's at all, AccessDenied if the
        permission is missing; returns quietly when allowed."""
        allowed = self.permissions(principal, workspace_id)
        if not allowed:
            raise NotVisible("workspace not found")
        if permission not in allowed:
            raise AccessDenied(f"this requires the {Permission(permission).value} permission")
