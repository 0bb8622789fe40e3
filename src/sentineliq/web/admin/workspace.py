"""The signed-in user's view of one workspace: role, permissions, the switcher's list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Annotated, Any

from fastapi import Depends, Request

from sentineliq.services.context import AppContext
from sentineliq.services.identity import (
    ROLE_PERMISSIONS,
    AccessDenied,
    IdentityService,
    NotVisible,
    Permission,
    Role,
    audit_origin,
)
from sentineliq.storage.audit import AuditRepository
from sentineliq.storage.deliveries import DeliveryRepository
from sentineliq.storage.workspaces import WorkspaceRecord
from sentineliq.web.admin.context import app_context, client_origin, identity
from sentineliq.web.admin.errors import NOT_VISIBLE, Forbidden, PageNotFound
from sentineliq.web.admin.session import SignedIn, signed_in

_SECTION_PATHS = {
    "alerts": "/alerts",
    "deliveries": "/deliveries",
    "integrations": "/settings/integrations",
    "inputs": "/settings/inputs",
    "api-keys": "/api-keys",
    "assignees": "/assignees",
    "audit": "/audit",
}


@dataclass(frozen=True)
class WorkspacePage:
    """What every workspace page needs: who, where, and what they may do."""

    request: Request = field(repr=False)
    signed: SignedIn
    workspace: WorkspaceRecord
    role: Role
    workspaces: tuple[tuple[WorkspaceRecord, Role], ...]
    section: str = ""

    @property
    def app(self) -> AppContext:
        return app_context(self.request)

    @property
    def identity(self) -> IdentityService:
        return identity(self.request)

    @property
    def actor(self) -> str:
        return self.signed.principal.name

    @property
    def csrf_token(self) -> str:
        return self.signed.session.csrf_token

    @property
    def origin(self) -> dict[str, str | None]:
        return client_origin(self.request)

    def audit(self, action: str, target: str, details: Mapping[str, Any] | None = None) -> None:
        """The panel's own audit entry, carrying where the request came from."""
        AuditRepository(self.app.db).record(
            action,
            actor=self.actor,
            workspace_id=self.workspace.id,
            target=target,
            details={**(details or {}), **audit_origin(**self.origin)},
        )

    def can(self, permission: Permission | str) -> bool:
        return Permission(permission) in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        """Re-checked through the identity service, so its rules are the only rules."""
        try:
            self.identity.authorize(self.signed.principal, self.workspace.id, permission)
        except NotVisible:
            raise PageNotFound(NOT_VISIBLE) from None
        except AccessDenied:
            raise Forbidden(
                f"Your role in {self.workspace.name} ({self.role.value}) does not allow this."
            ) from None

    @cached_property
    def held_count(self) -> int:
        """New tickets the storm guard holds in this workspace: every page's banner shows it."""
        return DeliveryRepository(self.app.db).count_held(self.workspace.id)

    @property
    def section_path(self) -> str:
        """The current section's path, so the switcher keeps people on the same page."""
        return _SECTION_PATHS.get(self.section, "")

    def url(self, suffix: str = "") -> str:
        return f"/w/{self.workspace.id}{suffix}"


def in_section(section: str) -> Any:
    """A dependency factory: the workspace page, marked as showing `section` in the nav."""

    def dependency(page: Annotated[WorkspacePage, Depends(open_workspace)]) -> WorkspacePage:
        return replace(page, section=section)

    return Depends(dependency)


def open_workspace(
    request: Request, workspace_id: str, signed: Annotated[SignedIn, Depends(signed_in)]
) -> WorkspacePage:
    """FastAPI dependency: the workspace in the path, if the user may view it (404 otherwise:
    a workspace the user is not in must look exactly like one that does not exist)."""
    mine = tuple(identity(request).workspaces_of(signed.user_id))
    for workspace, role in mine:
        if workspace.id == workspace_id:
            page = WorkspacePage(request, signed, workspace, role, mine)
            page.require(Permission.VIEW)
            return page
    raise PageNotFound(NOT_VISIBLE)


Workspace = Annotated[WorkspacePage, Depends(open_workspace)]
