"""Admin users and their workspace memberships.

Emails arrive here already validated and lower-cased (services.identity does that), so equality
is case-insensitive on both databases without functional indexes. Password hashes leave this
module only through `credentials`, never inside a `UserRecord`.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from sentineliq.storage.audit import add_audit
from sentineliq.storage.db import Database
from sentineliq.storage.errors import AlreadyExistsError, NotFoundError
from sentineliq.storage.tables import MembershipRow, UserRow, WorkspaceRow, new_id
from sentineliq.storage.types import utcnow
from sentineliq.storage.workspaces import WorkspaceRecord


@dataclass(frozen=True)
class UserRecord:
    id: str
    email: str
    display_name: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class MembershipRecord:
    user_id: str
    workspace_id: str
    role: str  # "owner" | "admin" | "member"
    created_at: datetime


def _record(row: UserRow) -> UserRecord:
    return UserRecord(
        id=row.id,
        email=row.email,
        display_name=row.display_name,
        is_active=row.is_active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _membership(row: MembershipRow) -> MembershipRecord:
    return MembershipRecord(
        user_id=row.user_id, workspace_id=row.workspace_id, role=row.role, created_at=row.created_at
    )


class UserRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def create(
        self,
        email: str,
        password_hash: str,
        *,
        display_name: str | None,
        actor: str,
        origin: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> UserRecord:
        """Raises AlreadyExistsError if the (lower-cased) email is taken."""
        now = now or utcnow()
        try:
            with self._db.session() as session:
                if session.scalar(select(UserRow.id).where(UserRow.email == email)):
                    raise AlreadyExistsError(f"a user with email {email!r} already exists")
                row = UserRow(
                    id=new_id(),
                    email=email,
                    display_name=display_name,
                    password_hash=password_hash,
                    is_active=True,
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
                add_audit(
                    session,
                    "user.created",
                    actor=actor,
                    target=f"user:{row.id}",
                    details={"email": email, **(origin or {})},
                    at=now,
                )
                session.flush()
                return _record(row)
        except IntegrityError:
            # Created concurrently between our check and insert.
            raise AlreadyExistsError(f"a user with email {email!r} already exists") from None

    def get(self, user_id: str) -> UserRecord | None:
        with self._db.session() as session:
            row = session.get(UserRow, user_id)
            return _record(row) if row is not None else None

    def get_by_email(self, email: str) -> UserRecord | None:
        with self._db.session() as session:
            row = session.scalar(select(UserRow).where(UserRow.email == email))
            return _record(row) if row is not None else None

    def credentials(self, email: str) -> tuple[UserRecord, str] | None:
        """The user and their password hash, for verification only."""
        with self._db.session() as session:
            row = session.scalar(select(UserRow).where(UserRow.email == email))
            return (_record(row), row.password_hash) if row is not None else None

    def replace_password_hash(self, user_id: str, old_hash: str, new_hash: str) -> bool:
        """Swap in a re-hash of the same password (stronger parameters), unless it changed since.

        Not audited: the password itself is unchanged, only how it is stored.
        """
        with self._db.session() as session:
            row = session.get(UserRow, user_id)
            if row is None or row.password_hash != old_hash:
                return False
            row.password_hash = new_hash
            return True

    def list(self) -> builtins.list[UserRecord]:
        with self._db.session() as session:
            return [
                _record(row) for row in session.scalars(select(UserRow).order_by(UserRow.email))
            ]

    def set_membership(
        self,
        workspace_id: str,
        user_id: str,
        role: str,
        *,
        actor: str,
        origin: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> MembershipRecord:
        """Add the user to the workspace, or change their role there. Audited when it changes.

        Raises NotFoundError if the user or the workspace does not exist.
        """
        now = now or utcnow()
        with self._db.session() as session:
            user = session.get(UserRow, user_id)
            if user is None:
                raise NotFoundError(f"user {user_id!r} not found")
            if session.get(WorkspaceRow, workspace_id) is None:
                raise NotFoundError(f"workspace {workspace_id!r} not found")
            row = session.scalar(
                select(MembershipRow).where(
                    MembershipRow.user_id == user_id, MembershipRow.workspace_id == workspace_id
                )
            )
            if row is not None and row.role == role:
                return _membership(row)
            details: dict[str, Any] = {"email": user.email, "role": role, **(origin or {})}
            if row is None:
                row = MembershipRow(
                    id=new_id(),
                    user_id=user_id,
                    workspace_id=workspace_id,
                    role=role,
                    created_at=now,
                )
                session.add(row)
                action = "member.added"
            else:
                details["previous_role"] = row.role
                row.role = role
                action = "member.role_changed"
            add_audit(
                session,
                action,
                actor=actor,
                workspace_id=workspace_id,
                target=f"user:{user_id}",
                details=details,
                at=now,
            )
            session.flush()
            return _membership(row)

    def role_in(self, user_id: str, workspace_id: str) -> str | None:
        with self._db.session() as session:
            return session.scalar(
                select(MembershipRow.role).where(
                    MembershipRow.user_id == user_id, MembershipRow.workspace_id == workspace_id
                )
            )

    def workspaces_of(self, user_id: str) -> builtins.list[tuple[WorkspaceRecord, str]]:
        """The user's workspaces with their role in each, by workspace name."""
        query = (
            select(WorkspaceRow, MembershipRow.role)
            .join(MembershipRow, MembershipRow.workspace_id == WorkspaceRow.id)
            .where(MembershipRow.user_id == user_id)
            .order_by(WorkspaceRow.name)
        )
        with self._db.session() as session:
            return [
                (WorkspaceRecord(id=ws.id, name=ws.name, created_at=ws.created_at), role)
                for ws, role in session.execute(query)
            ]

    def members_of(self, workspace_id: str) -> builtins.list[tuple[UserRecord, str]]:
        """The workspace's users with their role, by email."""
        query = (
            select(UserRow, MembershipRow.role)
            .join(MembershipRow, MembershipRow.user_id == UserRow.id)
            .where(MembershipRow.workspace_id == workspace_id)
            .order_by(UserRow.email)
        )
        with self._db.session() as session:
            return [(_record(user), role) for user, role in session.execute(query)]
