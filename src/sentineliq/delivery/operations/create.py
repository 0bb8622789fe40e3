"""Filing an alert's ticket; after a reopen window, a new one linked to the earlier ticket."""

from __future__ import annotations

from collections.abc import Callable

from sentineliq.delivery.operations.base import Done, Job, Operation
from sentineliq.outbox import TicketRef
from sentineliq.providers.base import CreatedTicket
from sentineliq.storage.deliveries import CREATE_ISSUE
from sentineliq.tickets.build import build_draft


def _done(ticket: CreatedTicket, severity: str | None = None) -> Done:
    reasons = getattr(ticket, "drop_reasons", ())
    dropped = [{"field": d.field, "reason": d.reason} for d in reasons] or [
        {"field": name, "reason": ""} for name in ticket.dropped_fields
    ]
    return Done(TicketRef(ticket.id, ticket.key, ticket.url), dropped, ticket_severity=severity)


class CreateIssue(Operation):
    """File the alert's ticket. Idempotency: the delivery's key, stamped on the ticket (a label
    or property) and searched for."""

    kind = CREATE_ISSUE

    def find_done(self, job: Job) -> Done | None:
        existing = job.provider.find_existing(job.delivery.idempotency_key)
        return None if existing is None else _done(existing)

    def perform(self, job: Job, before_send: Callable[[], None]) -> Done:
        stored = job.alerts.get(job.delivery.alert_id)
        draft = build_draft(
            stored.alert, workspace_name=stored.workspace_name, fingerprint=stored.fingerprint
        )
        relates_to = job.delivery.payload.get("relates_to")
        ticket = job.provider.create_ticket(
            draft,
            idempotency_key=job.delivery.idempotency_key,
            before_send=before_send,
            relates_to=relates_to if isinstance(relates_to, str) else None,
        )
        return _done(ticket, stored.alert.severity.value)
