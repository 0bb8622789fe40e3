"""Read models: one delivery, its history, the workspace's delivery list and counts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVarTuple

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from sentineliq.outbox import DeliveryStatus
from sentineliq.storage.db import Database
from sentineliq.storage.deliveries.records import (
    RECORD_COLUMNS,
    AttemptRecord,
    DeliveryDetail,
    DeliveryRecord,
    DeliveryView,
    attempt_record,
    dropped_from,
    record_from_row,
)
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.tables import (
    AlertRow,
    DeliveryAttemptRow,
    DeliveryRow,
    TicketLinkRow,
    TicketProviderRow,
)

_ID_PREFIX = re.compile(r"^[0-9a-f-]{4,36}$")
_Columns = TypeVarTuple("_Columns")


def _with_alert_ticket_and_provider(query: Select[*_Columns]) -> Select[*_Columns]:
    """`query` over deliveries joined to their alert, ticket link (if any) and provider row."""
    return (
        query.join(AlertRow, AlertRow.id == DeliveryRow.alert_id)
        .outerjoin(TicketLinkRow, TicketLinkRow.delivery_id == DeliveryRow.id)
        .outerjoin(
            TicketProviderRow,
            and_(
                TicketProviderRow.workspace_id == DeliveryRow.workspace_id,
                TicketProviderRow.provider == DeliveryRow.provider,
            ),
        )
    )


@dataclass(frozen=True)
class ListCursor:
    """Where a page of a delivery list ended (its last view)."""

    updated_at: datetime
    id: str

    @classmethod
    def of(cls, view: DeliveryView) -> ListCursor:
        return cls(view.updated_at, view.id)


class ReadMixin:
    _db: Database

    def get(self, delivery_id: str) -> DeliveryRecord | None:
        with self._db.session() as session:
            row = session.execute(
                select(*RECORD_COLUMNS).where(DeliveryRow.id == delivery_id)
            ).one_or_none()
            return record_from_row(row) if row is not None else None

    def find_by_prefix(self, prefix: str, *, limit: int = 2) -> list[str]:
        """Ids starting with `prefix` (at least 4 characters), so people can type short ids."""
        prefix = prefix.strip().lower()
        if not _ID_PREFIX.match(prefix):
            return []
        with self._db.session() as session:
            return list(
                session.scalars(
                    select(DeliveryRow.id)
                    .where(DeliveryRow.id.startswith(prefix, autoescape=True))
                    .order_by(DeliveryRow.id)
                    .limit(limit)
                )
            )

    def history(self, delivery_id: str) -> list[AttemptRecord]:
        """The delivery's attempts (and replays), oldest first. NotFoundError if unknown."""
        with self._db.session() as session:
            if session.get(DeliveryRow, delivery_id) is None:
                raise NotFoundError(f"delivery {delivery_id} not found")
            return self._history(session, delivery_id)

    @staticmethod
    def _history(session: Session, delivery_id: str) -> list[AttemptRecord]:
        rows = session.scalars(
            select(DeliveryAttemptRow)
            .where(DeliveryAttemptRow.delivery_id == delivery_id)
            # Attempts of one delivery end one after another (one lease at a time), so the end
            # orders them even when a caller-supplied start time does not.
            .order_by(
                DeliveryAttemptRow.finished_at,
                DeliveryAttemptRow.started_at,
                DeliveryAttemptRow.id,
            )
        )
        return [attempt_record(row) for row in rows]

    def detail(self, delivery_id: str) -> DeliveryDetail | None:
        """The delivery with its alert title, ticket, provider pause and history."""
        query = _with_alert_ticket_and_provider(
            select(
                AlertRow.title,
                TicketLinkRow.issue_key,
                TicketLinkRow.url,
                TicketProviderRow.paused_at,
                TicketProviderRow.paused_reason,
                *RECORD_COLUMNS,
            ).where(DeliveryRow.id == delivery_id)
        )
        with self._db.session() as session:
            row = session.execute(query).one_or_none()
            if row is None:
                return None
            delivery = record_from_row(row)
            return DeliveryDetail(
                delivery=delivery,
                alert_title=row.title,
                issue_key=row.issue_key,
                url=row.url,
                provider_paused_at=row.paused_at,
                provider_paused_reason=row.paused_reason,
                history=tuple(self._history(session, delivery_id)),
            )

    def list_for_workspace(
        self,
        workspace_id: str,
        status: DeliveryStatus | str | None = None,
        *,
        limit: int | None = None,
        alert_id: str | None = None,
        after: ListCursor | None = None,
    ) -> list[DeliveryView]:
        """Most recently updated first; `alert_id` narrows it to one alert's deliveries.

        Keyset-paged: `after` (the last view of the previous page, `ListCursor.of(view)`)
        continues where that page ended. The order matches the index on (workspace_id,
        updated_at, id), so a page costs the same however many deliveries the workspace has.
        """
        query = (
            _with_alert_ticket_and_provider(
                select(
                    DeliveryRow.id,
                    DeliveryRow.alert_id,
                    AlertRow.title,
                    DeliveryRow.provider,
                    DeliveryRow.status,
                    DeliveryRow.attempts,
                    DeliveryRow.last_error,
                    DeliveryRow.error_kind,
                    TicketLinkRow.issue_key,
                    TicketLinkRow.url,
                    DeliveryRow.available_at,
                    DeliveryRow.updated_at,
                    DeliveryRow.dropped_fields,
                    TicketProviderRow.paused_at,
                    TicketProviderRow.paused_reason,
                    DeliveryRow.reconcile_until,
                    DeliveryRow.operation,
                )
            )
            .where(DeliveryRow.workspace_id == workspace_id)
            .order_by(DeliveryRow.updated_at.desc(), DeliveryRow.id.desc())
            .limit(limit)
        )
        if after is not None:
            query = query.where(
                or_(
                    DeliveryRow.updated_at < after.updated_at,
                    and_(DeliveryRow.updated_at == after.updated_at, DeliveryRow.id < after.id),
                )
            )
        if alert_id is not None:
            query = query.where(DeliveryRow.alert_id == alert_id)
        if status is not None:
            query = query.where(DeliveryRow.status == DeliveryStatus(status).value)
        with self._db.session() as session:
            return [
                DeliveryView(
                    id=row.id,
                    alert_id=row.alert_id,
                    alert_title=row.title,
                    provider=row.provider,
                    status=DeliveryStatus(row.status),
                    attempts=row.attempts,
                    last_error=row.last_error,
                    error_kind=row.error_kind,
                    issue_key=row.issue_key,
                    url=row.url,
                    available_at=row.available_at,
                    updated_at=row.updated_at,
                    provider_paused_at=row.paused_at,
                    provider_paused_reason=row.paused_reason,
                    dropped_fields=dropped_from(row.dropped_fields),
                    reconcile_until=row.reconcile_until,
                    operation=row.operation,
                )
                for row in session.execute(query)
            ]

    def iter_for_workspace(
        self,
        workspace_id: str,
        status: DeliveryStatus | str | None = None,
        *,
        page_size: int = 500,
    ) -> Iterator[list[DeliveryView]]:
        """Every delivery, page by page (each page its own short read), so a listing of any
        size holds one page in memory."""
        after: ListCursor | None = None
        while True:
            page = self.list_for_workspace(workspace_id, status, limit=page_size, after=after)
            if page:
                yield page
            if len(page) < page_size:
                return
            after = ListCursor.of(page[-1])

    def count_by_status(self, workspace_id: str | None = None) -> dict[DeliveryStatus, int]:
        query = select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)
        if workspace_id is not None:
            query = query.where(DeliveryRow.workspace_id == workspace_id)
        counts = dict.fromkeys(DeliveryStatus, 0)
        with self._db.session() as session:
            for status, count in session.execute(query):
                counts[DeliveryStatus(status)] = count
        return counts
