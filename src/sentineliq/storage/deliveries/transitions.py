"""The one path that persists a delivery's transitions: state, history row and audit entry.

Reports come from the worker holding the lease, as events (see `sentineliq.outbox`): they take
effect only while the lease is still that worker's, else LeaseLostError and nothing is written.
An operator's replay goes the same way without a lease. What an event does to the row (status,
attempts counter, "possibly sent" marker) is the state machine's table; what it says in the
history and the audit log is `_describe`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, select, update
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from sentineliq.outbox import (
    RULES,
    Adopted,
    AttemptOutcome,
    Created,
    Dead,
    Deferred,
    DeliveryStatus,
    Discarded,
    Event,
    Marker,
    Paused,
    PossiblySent,
    Released,
    Replayed,
    RetryScheduled,
    TicketRef,
    Unheld,
    settle,
)
from sentineliq.outbox.states import Count, Rule
from sentineliq.storage.audit import add_audit
from sentineliq.storage.db import Database
from sentineliq.storage.deliveries.enqueue import enqueue
from sentineliq.storage.deliveries.records import (
    CREATE_ISSUE,
    MAX_ATTEMPT_MESSAGE_LENGTH,
    MAX_ERROR_LENGTH,
    RECORD_COLUMNS,
    DeliveryRecord,
    clean_details,
    clean_text,
    filed_message,
    normalise_dropped,
    record_from_row,
)
from sentineliq.storage.errors import LeaseLostError, NotFoundError, StorageError
from sentineliq.storage.evidencefiles import queue_missing_attachments
from sentineliq.storage.providers import pause_provider
from sentineliq.storage.tables import DeliveryAttemptRow, DeliveryRow, TicketLinkRow, new_id
from sentineliq.storage.types import utcnow


class ConnectionLostError(StorageError):
    """The database did not answer (connection lost, server restarting). Whether the report was
    committed is unknown only when the connection dropped during the commit; a report is safe to
    repeat under the lease (a committed one is refused as LeaseLostError), so the caller may keep
    it and repeat it once the database answers again."""


def connection_lost(error: BaseException) -> bool:
    """Whether `error` is the database going away rather than a statement failing."""
    if isinstance(error, ConnectionLostError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    return error.connection_invalidated or isinstance(error, OperationalError | InterfaceError)


def _uncounted_attempts() -> ColumnElement[int]:
    """attempts - 1: the claim that is handed back does not count against the retry budget."""
    return case((DeliveryRow.attempts > 0, DeliveryRow.attempts - 1), else_=0)


_ATTEMPTS: dict[Count, Any] = {Count.HANDED_BACK: _uncounted_attempts(), Count.RESET: 0}


class TransitionMixin:
    _db: Database

    def record(
        self, delivery_id: str, worker_id: str, *events: Event, now: datetime | None = None
    ) -> DeliveryRecord:
        """Report what happened to a delivery leased to `worker_id`, in one transaction: at most
        one marker event (PossiblySent, Unanswered, Refused), then the attempt's outcome.

        Raises LeaseLostError if the lease is no longer ours; a Paused report pauses the
        provider even then (the auth failure is true either way). ConnectionLostError when the
        database did not answer: the caller may keep the report and repeat it later.
        """
        now = now or utcnow()
        settle(DeliveryStatus.IN_FLIGHT, [event.kind for event in events])  # legal, or raise
        try:
            return self._report(delivery_id, worker_id, events, now)
        except DBAPIError as error:
            if connection_lost(error):
                raise ConnectionLostError(
                    f"database unreachable: {type(error.orig).__name__}"
                ) from error
            raise

    def record_sent_together(
        self,
        delivery_ids: Sequence[str],
        worker_id: str,
        event: PossiblySent,
        *,
        now: datetime | None = None,
    ) -> None:
        """Mark every delivery of one bulk request "possibly sent" in one transaction, before
        the request leaves: all of them or none (LeaseLostError when any lease is no longer
        ours; ConnectionLostError as for `record`). The marker writes no history row."""
        now = now or utcnow()
        settle(DeliveryStatus.IN_FLIGHT, [event.kind])
        rule = RULES[event.kind]
        values: dict[str, Any] = {"updated_at": now, **_marker_values(event, rule.marker, now)}
        try:
            with self._db.session() as session:
                marked = session.execute(
                    update(DeliveryRow)
                    .where(
                        DeliveryRow.id.in_(list(delivery_ids)),
                        DeliveryRow.status.in_(sorted(s.value for s in rule.sources)),
                        DeliveryRow.claimed_by == worker_id,
                        DeliveryRow.lease_until > now,
                    )
                    .values(**values)
                    .returning(DeliveryRow.id)
                    .execution_options(synchronize_session=False)
                ).all()
                if len(marked) != len(set(delivery_ids)):
                    # Raised inside the transaction, so none stays marked: nothing may leave.
                    raise LeaseLostError(
                        f"{len(set(delivery_ids)) - len(marked)} of {len(set(delivery_ids))} "
                        f"deliveries are no longer leased to {worker_id}"
                    )
        except DBAPIError as error:
            if connection_lost(error):
                raise ConnectionLostError(
                    f"database unreachable: {type(error.orig).__name__}"
                ) from error
            raise

    def record_created_together(
        self,
        reports: Sequence[tuple[str, Created]],
        worker_id: str,
        *,
        now: datetime | None = None,
    ) -> list[DeliveryRecord | LeaseLostError]:
        """Record the tickets one bulk call filed, in one transaction instead of one each; every
        report under its own savepoint, so one whose lease is lost is refused alone (its
        LeaseLostError in its place). ConnectionLostError as for `record`."""
        now = now or utcnow()
        out: list[DeliveryRecord | LeaseLostError] = []
        try:
            with self._db.session() as session:
                for delivery_id, event in reports:
                    settle(DeliveryStatus.IN_FLIGHT, [event.kind])
                    try:
                        with session.begin_nested():
                            out.append(
                                self._transition(session, delivery_id, worker_id, [event], now=now)
                            )
                    except LeaseLostError as lost:
                        out.append(lost)
        except DBAPIError as error:
            if connection_lost(error):
                raise ConnectionLostError(
                    f"database unreachable: {type(error.orig).__name__}"
                ) from error
            raise
        return out

    def _report(
        self, delivery_id: str, worker_id: str, events: Sequence[Event], now: datetime
    ) -> DeliveryRecord:
        final = events[-1]
        lost: LeaseLostError | None = None
        with self._db.session() as session:
            if isinstance(final, Paused):
                self._pause(session, delivery_id, worker_id, final, now)
            try:
                record = self._transition(session, delivery_id, worker_id, events, now=now)
            except LeaseLostError as error:
                if not isinstance(final, Paused):
                    raise
                lost = error  # the pause is committed all the same
        if lost is not None:
            raise lost
        return record

    @staticmethod
    def _pause(
        session: Session, delivery_id: str, worker_id: str, event: Paused, now: datetime
    ) -> None:
        owner = session.execute(
            select(DeliveryRow.workspace_id, DeliveryRow.provider).where(
                DeliveryRow.id == delivery_id
            )
        ).one_or_none()
        if owner is None:
            raise NotFoundError(f"delivery {delivery_id} not found")
        pause_provider(
            session,
            owner.workspace_id,
            owner.provider,
            event.failure.message,
            actor=worker_id,
            config_version=event.config_version,
            now=now,
        )

    def _transition(
        self,
        session: Session,
        delivery_id: str,
        actor: str,
        events: Sequence[Event],
        *,
        now: datetime,
        before: DeliveryRecord | None = None,
    ) -> DeliveryRecord:
        """Write the row, the history row and the audit entry the events call for."""
        final = events[-1]
        rule = RULES[final.kind]
        values: dict[str, Any] = {"updated_at": now}
        for event in events:
            values.update(_marker_values(event, RULES[event.kind].marker, now))
        values.update(_row_values(final, rule, now))
        record = self._settle(session, delivery_id, actor, rule, values, now)
        if rule.outcome is None and rule.audit is None:
            return record  # bookkeeping within an attempt, not a change of state
        attempt, audit = _describe(final, record, actor, before)
        if rule.outcome is not None:
            _add_attempt(session, record, actor, rule, attempt, now=now, before=before)
        if rule.audit is not None:
            add_audit(
                session,
                rule.audit,
                actor=actor,
                workspace_id=record.workspace_id,
                target=f"delivery:{record.id}",
                details={"alert_id": record.alert_id, "provider": record.provider, **audit},
            )
        if isinstance(final, Created):
            _after_effect(session, record, final, now)
        return record

    @staticmethod
    def _settle(
        session: Session,
        delivery_id: str,
        actor: str,
        rule: Rule,
        values: dict[str, Any],
        now: datetime,
    ) -> DeliveryRecord:
        """Apply `values` if the delivery is in a status the event may leave and, for a lease
        holder's report, still leased to `actor` (and not expired when the rule says so); else
        LeaseLostError."""
        conditions = [
            DeliveryRow.id == delivery_id,
            DeliveryRow.status.in_(sorted(s.value for s in rule.sources)),
        ]
        if rule.by_lease_holder:
            conditions.append(DeliveryRow.claimed_by == actor)
        if rule.live_lease:
            conditions.append(DeliveryRow.lease_until > now)
        row = session.execute(
            update(DeliveryRow)
            .where(*conditions)
            .values(**values)
            .returning(*RECORD_COLUMNS)
            .execution_options(synchronize_session=False)
        ).one_or_none()
        if row is None:
            raise LeaseLostError(
                f"delivery {delivery_id} is no longer leased to {actor}; another worker "
                "may have claimed it after the lease expired"
            )
        return record_from_row(row)


def _marker_values(event: Event, marker: Marker, now: datetime) -> dict[str, Any]:
    if isinstance(event, PossiblySent):
        values: dict[str, Any] = {"last_sent_at": now}
        if event.lease_until is not None:
            values["lease_until"] = event.lease_until
    else:
        values = {}
    if marker is Marker.CLEAR:
        values["reconcile_until"] = None
    window = getattr(event, "reconcile_until", None)
    if marker is Marker.SET and window is not None:
        values["reconcile_until"] = window
    return values


def _row_values(event: Event, rule: Rule, now: datetime) -> dict[str, Any]:
    """The row's new status, lease, attempts and what the event reports on it."""
    values: dict[str, Any] = {}
    if rule.ends_lease:
        values.update(status=rule.target.value, lease_until=None)
    if rule.target is DeliveryStatus.PENDING:
        values.update(claimed_by=None, available_at=now)
    if rule.count in _ATTEMPTS:
        values["attempts"] = _ATTEMPTS[rule.count]
    match event:
        case Created():
            values.update(
                delivered_at=now,
                last_error=None,
                error_kind=None,
                dropped_fields=normalise_dropped(event.dropped_fields),
            )
        case RetryScheduled() | Dead() | Paused():
            values.update(
                last_error=clean_text(event.failure.message, MAX_ERROR_LENGTH),
                error_kind=str(event.failure.error_kind),
            )
            if isinstance(event, RetryScheduled):
                values["available_at"] = event.retry_at
        case Deferred():
            values["available_at"] = event.available_at
    return values


def _describe(
    event: Event, record: DeliveryRecord, actor: str, before: DeliveryRecord | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the event says in the history row and (besides alert and provider) the audit."""
    match event:
        case Created():
            dropped = normalise_dropped(event.dropped_fields)
            info, ticket = event.info, event.ticket
            message = info.message
            if message is None and dropped:
                message = filed_message(dropped)
            link = {"issue_key": ticket.key, "url": ticket.url} if ticket is not None else {}
            attempt: dict[str, Any] = {
                "started_at": info.started_at,
                "message": message,
                "http_status": info.http_status,
                "details": {
                    **(info.details or {}),
                    **link,
                    **({"dropped_fields": dropped} if dropped else {}),
                },
            }
            audit = {
                **link,
                "attempts": record.attempts,
                "adopted": isinstance(event, Adopted),
                "dropped_fields": dropped,
            }
            return attempt, audit
        case RetryScheduled() | Dead():
            failure = event.failure
            retry_at = event.retry_at if isinstance(event, RetryScheduled) else None
            attempt = {
                "error_kind": str(failure.error_kind),
                "message": failure.message,
                "http_status": failure.http_status,
                "retry_at": retry_at,
                "details": failure.details,
            }
            audit = {
                "error_kind": str(failure.error_kind),
                "message": clean_text(failure.message, MAX_ERROR_LENGTH),
                "http_status": failure.http_status,
                "attempts": record.attempts,
                "retry_at": retry_at.isoformat() if retry_at is not None else None,
            }
            return attempt, audit
        case Paused():
            failure = event.failure
            attempt = {
                "error_kind": str(failure.error_kind),
                "message": failure.message,
                "http_status": failure.http_status,
                "details": failure.details,
            }
            return attempt, {"reason": clean_text(failure.message, MAX_ERROR_LENGTH)}
        case Deferred():
            attempt = {"message": event.reason, "retry_at": record.available_at}
            audit = {
                "outcome": _outcome(event).value,
                "reason": clean_text(event.reason, MAX_ERROR_LENGTH),
                "available_at": record.available_at.isoformat(),
            }
            return attempt, audit
        case Released():
            return {"message": event.reason, "retry_at": record.available_at}, {}
        case Unheld():
            return {"message": f"released from the storm guard by {actor}"}, {}
        case Discarded():
            return {"message": f"discarded from the storm guard by {actor}"}, {}
        case Replayed() if before is not None:
            attempt = {
                "started_at": record.updated_at,
                "message": f"replayed by {actor} (was {before.status.value}); attempts start again",
            }
            audit = {"previous_status": before.status.value, "previous_attempts": before.attempts}
            return attempt, audit
    raise ValueError(f"{event.kind.value} is not an attempt's outcome")


def _outcome(event: Event) -> AttemptOutcome:
    return AttemptOutcome(_outcome_of(RULES[event.kind]))


def _outcome_of(rule: Rule) -> str:
    if rule.outcome is None:
        raise ValueError(f"{rule.event.value} writes no history row")
    return rule.outcome.value


def _add_attempt(
    session: Session,
    record: DeliveryRecord,
    actor: str,
    rule: Rule,
    fields: dict[str, Any],
    *,
    now: datetime,
    before: DeliveryRecord | None,
) -> None:
    counter = {Count.HANDED_BACK: record.attempts + 1}.get(rule.count, record.attempts)
    if rule.count is Count.RESET and before is not None:
        counter = before.attempts
    row = DeliveryAttemptRow(
        id=new_id(),
        delivery_id=record.id,
        attempt=counter,
        worker_id=actor,
        started_at=fields.get("started_at") or record.claimed_at or now,
        finished_at=now,
        outcome=_outcome_of(rule),
        error_kind=fields.get("error_kind"),
        message=clean_text(fields.get("message"), MAX_ATTEMPT_MESSAGE_LENGTH),
        http_status=fields.get("http_status"),
        retry_at=fields.get("retry_at"),
    )
    cleaned = clean_details(fields.get("details"))
    if cleaned is not None:  # unset rather than None: a JSON column would store 'null'
        row.details = cleaned
    session.add(row)


def _after_effect(session: Session, record: DeliveryRecord, event: Created, now: datetime) -> None:
    """What an operation's success means beyond its own row: the alert's ticket link, and the
    deliveries it calls for next."""
    if event.ticket is not None:
        _link_ticket(session, record, event.ticket, event.ticket_severity, now)
    if record.operation == CREATE_ISSUE:
        # Comments and transitions that waited for this ticket are due now, not at their next
        # look (see delivery/operations/tickets.py).
        session.execute(
            update(DeliveryRow)
            .where(
                DeliveryRow.alert_id == record.alert_id,
                DeliveryRow.provider == record.provider,
                DeliveryRow.operation != CREATE_ISSUE,
                DeliveryRow.status == DeliveryStatus.PENDING.value,
                DeliveryRow.available_at > now,
                DeliveryRow.last_sent_at.is_(None),
            )
            .values(available_at=now)
            .execution_options(synchronize_session=False)
        )
        if event.ticket is not None:
            # Evidence files uploaded before the ticket existed are attached right after it.
            queue_missing_attachments(session, record.alert_id, record.provider, now)
    for follow_up in event.follow_ups:
        enqueue(
            session,
            alert_id=record.alert_id,
            workspace_id=record.workspace_id,
            provider=record.provider,
            operation=follow_up.operation,
            payload=follow_up.payload,
            now=now,
        )


def _link_ticket(
    session: Session,
    record: DeliveryRecord,
    ticket: TicketRef,
    severity: str | None,
    now: datetime,
) -> None:
    link = session.scalar(
        select(TicketLinkRow)
        .where(
            TicketLinkRow.alert_id == record.alert_id,
            TicketLinkRow.provider == record.provider,
        )
        .with_for_update()
    )
    if link is None:
        if record.operation != CREATE_ISSUE:
            return  # acting on a ticket this alert no longer links (nothing to remember)
        session.add(
            TicketLinkRow(
                id=new_id(),
                alert_id=record.alert_id,
                delivery_id=record.id,
                provider=record.provider,
                issue_id=ticket.issue_id,
                issue_key=ticket.key,
                url=ticket.url,
                created_at=now,
                severity=severity,
                previous_keys=[],
            )
        )
        return
    if record.operation == CREATE_ISSUE and link.issue_key != ticket.key:
        # A new ticket for the alert (after the reopen window), or a replayed create: the link
        # moves on to it and remembers the earlier one.
        link.previous_keys = [*(link.previous_keys or []), link.issue_key]
        link.delivery_id, link.issue_id, link.issue_key, link.url = (
            record.id,
            ticket.issue_id,
            ticket.key,
            ticket.url,
        )
        link.created_at = now
        link.severity = severity
    elif severity is not None and link.issue_key == ticket.key:
        link.severity = severity
