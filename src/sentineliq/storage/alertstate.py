"""An alert's life after ingest: its status changes (with resolution, when and by whom) and
its notes (e.g. people's comments mirrored from the ticket). One transaction per change, each
with its audit entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sentineliq.outbox import DeliveryStatus
from sentineliq.storage.audit import add_audit
from sentineliq.storage.db import Database
from sentineliq.storage.deliveries.enqueue import TRANSITION_ISSUE, enqueue
from sentineliq.storage.deliveries.records import CREATE_ISSUE
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.tables import AlertNoteRow, AlertRow, DeliveryRow, new_id
from sentineliq.storage.types import utcnow

NOTE_AUTHOR_MAX = 200


@dataclass(frozen=True)
class AlertState:
    alert_id: str
    workspace_id: str
    status: str
    resolution: str | None
    status_changed_at: datetime | None
    status_changed_by: str | None


@dataclass(frozen=True)
class QueuedTransition:
    provider: str
    delivery_id: str


@dataclass(frozen=True)
class StatusChange:
    alert_id: str
    before: str
    after: str
    resolution: str | None
    transitions: tuple[QueuedTransition, ...] = ()  # queued with an outbound change


@dataclass(frozen=True)
class AlertNote:
    id: str
    alert_id: str
    at: datetime
    author: str
    body: str
    source: str


class AlertStateRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def state(self, alert_id: str) -> AlertState:
        with self._db.session() as session:
            row = session.get(AlertRow, alert_id)
            if row is None:
                raise NotFoundError(f"alert {alert_id} not found")
            return _state(row)

    def change_status(
        self,
        alert_id: str,
        status: str,
        *,
        resolution: str | None,
        actor: str,
        reason: str,
        origin: str,
        at: datetime | None = None,
        outbound: bool = False,
    ) -> StatusChange | None:
        """Set the status (row locked); None, and nothing written, when already there with the
        same resolution. With `outbound`, the alert's tickets are to follow: a transition
        delivery per provider that files (or filed) one is queued in the same transaction, so
        the change reaches each ticket exactly once."""
        with self._db.session() as session:
            row = session.scalar(select(AlertRow).where(AlertRow.id == alert_id).with_for_update())
            if row is None:
                raise NotFoundError(f"alert {alert_id} not found")
            if row.status == status and row.resolution == resolution:
                return None
            before = row.status
            row.status = status
            row.resolution = resolution
            row.status_changed_at = at or utcnow()
            row.status_changed_by = actor[:NOTE_AUTHOR_MAX]
            add_audit(
                session,
                "alert.status_changed",
                actor=actor[:NOTE_AUTHOR_MAX],
                workspace_id=row.workspace_id,
                target=f"alert:{alert_id}",
                details={
                    "from": before,
                    "to": status,
                    "resolution": resolution,
                    "reason": reason,
                    "origin": origin,
                },
            )
            queued = (
                _queue_transitions(session, row, status, actor=actor, reason=reason)
                if outbound
                else ()
            )
            return StatusChange(alert_id, before, status, resolution, queued)

    def add_note(
        self, alert_id: str, *, at: datetime, author: str, body: str, source: str
    ) -> AlertNote | None:
        """Add a note; None when a note from the same `source` is already there."""
        try:
            with self._db.session() as session:
                row = session.get(AlertRow, alert_id)
                if row is None:
                    raise NotFoundError(f"alert {alert_id} not found")
                exists = session.scalar(
                    select(AlertNoteRow.id).where(
                        AlertNoteRow.alert_id == alert_id, AlertNoteRow.source == source
                    )
                )
                if exists is not None:
                    return None
                note = AlertNoteRow(
                    id=new_id(),
                    alert_id=alert_id,
                    at=at,
                    author=author[:NOTE_AUTHOR_MAX],
                    body=body,
                    source=source,
                )
                session.add(note)
                add_audit(
                    session,
                    "alert.note_added",
                    actor=author[:NOTE_AUTHOR_MAX],
                    workspace_id=row.workspace_id,
                    target=f"alert:{alert_id}",
                    details={"source": source},
                )
                session.flush()
                return _note(note)
        except IntegrityError:  # the same note added concurrently: it is there once
            return None

    def notes(self, alert_id: str) -> list[AlertNote]:
        with self._db.session() as session:
            rows = session.scalars(
                select(AlertNoteRow)
                .where(AlertNoteRow.alert_id == alert_id)
                .order_by(AlertNoteRow.at, AlertNoteRow.id)
            )
            return [_note(r) for r in rows]


def _state(row: AlertRow) -> AlertState:
    return AlertState(
        row.id,
        row.workspace_id,
        row.status,
        row.resolution,
        row.status_changed_at,
        row.status_changed_by,
    )


def _note(row: AlertNoteRow) -> AlertNote:
    return AlertNote(row.id, row.alert_id, row.at, row.author, row.body, row.source)


def _queue_transitions(
    session: Session, row: AlertRow, status: str, *, actor: str, reason: str
) -> tuple[QueuedTransition, ...]:
    providers = session.scalars(
        select(DeliveryRow.provider)
        .where(
            DeliveryRow.alert_id == row.id,
            DeliveryRow.operation == CREATE_ISSUE,
            DeliveryRow.status != DeliveryStatus.DISCARDED.value,
        )
        .distinct()
    ).all()
    now = utcnow()
    queued = []
    for provider in sorted(providers):
        delivery = enqueue(
            session,
            alert_id=row.id,
            workspace_id=row.workspace_id,
            provider=provider,
            operation=TRANSITION_ISSUE,
            payload={"to": status, "actor": actor[:NOTE_AUTHOR_MAX], "reason": reason},
            now=now,
        )
        queued.append(QueuedTransition(provider, delivery.id))
    return tuple(queued)
