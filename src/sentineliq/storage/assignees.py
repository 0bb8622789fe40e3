"""Assignee mappings: per workspace, an email -> the ticket system's account id for that person.

Most Jira Cloud accounts hide their email, so a search cannot always tell who an address belongs
to; an operator's mapping settles it and wins over any search. Emails are stored trimmed and
case-folded, so a mapping matches however an alert spells the address.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sentineliq.addresses import email_key
from sentineliq.storage.audit import add_audit
from sentineliq.storage.db import Database
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.tables import AssigneeMappingRow, WorkspaceRow, new_id
from sentineliq.storage.types import utcnow

MAX_EMAIL_LENGTH = 320
MAX_ACCOUNT_ID_LENGTH = 128
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
# Cloud ids look like "5b10ac8d82e05b22cc7d4ef5" or "712020:3f1c…-…"; nothing else belongs there.
_ACCOUNT_ID = re.compile(r"^[A-Za-z0-9:._-]+$")


@dataclass(frozen=True)
class AssigneeMappingRecord:
    workspace_id: str
    email: str
    account_id: str
    updated_by: str
    created_at: datetime
    updated_at: datetime


def validate_assignee_email(raw: str) -> str:
    """The stored form of an assignee email (`email_key`); ValueError names the field when it is
    not one."""
    email = email_key(raw)
    if not email:
        raise ValueError("email: enter the assignee's email address")
    if len(email) > MAX_EMAIL_LENGTH:
        raise ValueError(f"email: at most {MAX_EMAIL_LENGTH} characters")
    if not _EMAIL.match(email) or not email.isprintable():
        raise ValueError("email: not an email address (name@domain)")
    return email


def validate_account_id(raw: str) -> str:
    account_id = raw.strip()
    if not account_id:
        raise ValueError("account_id: enter the Jira account id")
    if len(account_id) > MAX_ACCOUNT_ID_LENGTH:
        raise ValueError(f"account_id: at most {MAX_ACCOUNT_ID_LENGTH} characters")
    if not _ACCOUNT_ID.match(account_id):
        raise ValueError(
            "account_id: only letters, digits and : . _ - are allowed (a Jira account id looks "
            "like 5b10ac8d82e05b22cc7d4ef5 or 712020:3f1c…)"
        )
    return account_id


def _record(row: AssigneeMappingRow) -> AssigneeMappingRecord:
    return AssigneeMappingRecord(
        workspace_id=row.workspace_id,
        email=row.email,
        account_id=row.account_id,
        updated_by=row.updated_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class AssigneeRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def put(
        self,
        workspace_id: str,
        email: str,
        account_id: str,
        *,
        actor: str,
        origin: Mapping[str, str] | None = None,
    ) -> tuple[AssigneeMappingRecord, bool]:
        """Create or replace the mapping of `email`; returns it and whether it is new.

        Raises ValueError (naming the field) for bad input, NotFoundError for an unknown workspace.
        """
        email, account_id = validate_assignee_email(email), validate_account_id(account_id)
        # One retry: a concurrent first put of the same email wins the insert, we update it.
        for attempt in range(2):
            try:
                with self._db.session() as session:
                    return self._put(session, workspace_id, email, account_id, actor, origin)
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _put(
        self,
        session: Session,
        workspace_id: str,
        email: str,
        account_id: str,
        actor: str,
        origin: Mapping[str, str] | None,
    ) -> tuple[AssigneeMappingRecord, bool]:
        if session.get(WorkspaceRow, workspace_id) is None:
            raise NotFoundError(f"workspace {workspace_id} not found")
        row = session.scalar(
            select(AssigneeMappingRow)
            .where(
                AssigneeMappingRow.workspace_id == workspace_id,
                AssigneeMappingRow.email == email,
            )
            .with_for_update()
        )
        now = utcnow()
        previous = row.account_id if row is not None else None
        created = row is None
        if row is None:
            row = AssigneeMappingRow(
                id=new_id(),
                workspace_id=workspace_id,
                email=email,
                account_id=account_id,
                updated_by=actor,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
        elif row.account_id != account_id:
            row.account_id = account_id
            row.updated_by = actor
            row.updated_at = now
        if previous != account_id:
            add_audit(
                session,
                "assignee.mapped",
                actor=actor,
                workspace_id=workspace_id,
                target=f"assignee:{email}",
                details={
                    "email": email,
                    "account_id": account_id,
                    "previous_account_id": previous,
                    **(origin or {}),
                },
            )
        session.flush()
        return _record(row), created

    def get(self, workspace_id: str, email: str) -> AssigneeMappingRecord | None:
        try:
            email = validate_assignee_email(email)
        except ValueError:
            return None
        with self._db.session() as session:
            row = session.scalar(
                select(AssigneeMappingRow).where(
                    AssigneeMappingRow.workspace_id == workspace_id,
                    AssigneeMappingRow.email == email,
                )
            )
            return _record(row) if row is not None else None

    def account_for(self, workspace_id: str, email: str) -> str | None:
        found = self.get(workspace_id, email)
        return found.account_id if found is not None else None

    def list(self, workspace_id: str) -> builtins.list[AssigneeMappingRecord]:
        """The workspace's mappings by email."""
        query = (
            select(AssigneeMappingRow)
            .where(AssigneeMappingRow.workspace_id == workspace_id)
            .order_by(AssigneeMappingRow.email)
        )
        with self._db.session() as session:
            return [_record(row) for row in session.scalars(query)]

    def delete(
        self,
        workspace_id: str,
        email: str,
        *,
        actor: str,
        origin: Mapping[str, str] | None = None,
    ) -> AssigneeMappingRecord:
        """Remove the mapping, audited in the same transaction; NotFoundError if there is none."""
        email = validate_assignee_email(email)
        with self._db.session() as session:
            row = session.scalar(
                select(AssigneeMappingRow)
                .where(
                    AssigneeMappingRow.workspace_id == workspace_id,
                    AssigneeMappingRow.email == email,
                )
                .with_for_update()
            )
            if row is None:
                raise NotFoundError(f"no assignee mapping for {email} in this workspace")
            record = _record(row)
            session.delete(row)
            add_audit(
                session,
                "assignee.unmapped",
                actor=actor,
                workspace_id=workspace_id,
                target=f"assignee:{email}",
                details={"email": email, "account_id": record.account_id, **(origin or {})},
            )
            return record
