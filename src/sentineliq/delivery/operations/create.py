"""Filing an alert's ticket; after a reopen window, a new one linked to the earlier ticket."""

from __future__ import annotations

from collections.abc import Callable

from sentineliq.alerts.model import Severity
from sentineliq.delivery.operations.base import Done, Job, Operation
from sentineliq.mitre.catalog import AttackCatalog
from sentineliq.outbox import TicketRef
from sentineliq.providers.base import BulkCreate, CreatedTicket
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.deliveries import CREATE_ISSUE, DeliveryRecord
from sentineliq.tickets.build import build_draft
from sentineliq.tickets.content import TicketContent


def filed(ticket: CreatedTicket, severity: str | None = None) -> Done:
    """A created (or found) ticket as the operation's outcome, with why fields were dropped."""
    reasons = getattr(ticket, "drop_reasons", ())
    dropped = [{"field": d.field, "reason": d.reason} for d in reasons] or [
        {"field": name, "reason": ""} for name in ticket.dropped_fields
    ]
    return Done(TicketRef(ticket.id, ticket.key, ticket.url), dropped, ticket_severity=severity)


def ticket_to_file(
    delivery: DeliveryRecord,
    alerts: AlertRepository,
    content: TicketContent,
    catalog: AttackCatalog | None = None,
) -> tuple[BulkCreate, str]:
    """What a create delivery files (also one element of a bulk create), and the alert's
    severity the ticket's priority reflects."""
    stored = alerts.get(delivery.alert_id)
    alert = stored.alert
    # A detection filed when a repeat passed its brand gate is filed at that repeat's severity.
    passed_at = delivery.payload.get("severity")
    if isinstance(passed_at, str):
        alert = alert.model_copy(update={"severity": Severity(passed_at)})
    draft = build_draft(
        alert,
        workspace_name=stored.workspace_name,
        fingerprint=stored.fingerprint,
        content=content,
        catalog=catalog,
        # Verified as the ticket is rendered, so it shows the chain's state at filing time.
        custody=alerts.custody_checks(stored.id) if alert.evidence else None,
    )
    relates_to = delivery.payload.get("relates_to")
    item = BulkCreate(
        draft,
        delivery.idempotency_key,
        relates_to=relates_to if isinstance(relates_to, str) else None,
    )
    return item, alert.severity.value


class CreateIssue(Operation):
    """File the alert's ticket. Idempotency: the delivery's key, stamped on the ticket (a label
    or property) and searched for."""

    kind = CREATE_ISSUE

    def find_done(self, job: Job) -> Done | None:
        existing = job.provider.find_existing(job.delivery.idempotency_key)
        return None if existing is None else filed(existing)

    def perform(self, job: Job, before_send: Callable[[], None]) -> Done:
        item, severity = ticket_to_file(job.delivery, job.alerts, job.content, job.catalog)
        ticket = job.provider.create_ticket(
            item.draft,
            idempotency_key=item.idempotency_key,
            before_send=before_send,
            relates_to=item.relates_to,
        )
        return filed(ticket, severity)
