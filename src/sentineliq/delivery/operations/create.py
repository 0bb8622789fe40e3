"""Filing an alert's ticket; after a reopen window, a new one linked to the earlier ticket."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sentineliq.alerts.files import EvidenceFile
from sentineliq.alerts.model import Severity
from sentineliq.delivery.operations.base import Done, Job, Operation
from sentineliq.mitre.catalog import AttackCatalog
from sentineliq.outbox import FollowUp, TicketRef
from sentineliq.providers.base import BulkCreate, CreatedTicket
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.deliveries import CREATE_ISSUE, DeliveryRecord
from sentineliq.storage.deliveries.enqueue import ATTACH_EVIDENCE
from sentineliq.tickets.build import build_draft
from sentineliq.tickets.content import TicketContent


def filed(
    ticket: CreatedTicket, severity: str | None = None, follow_ups: Sequence[FollowUp] = ()
) -> Done:
    """A created (or found) ticket as the operation's outcome, with why fields were dropped."""
    reasons = getattr(ticket, "drop_reasons", ())
    dropped = [{"field": d.field, "reason": d.reason} for d in reasons] or [
        {"field": name, "reason": ""} for name in ticket.dropped_fields
    ]
    return Done(
        TicketRef(ticket.id, ticket.key, ticket.url),
        dropped,
        ticket_severity=severity,
        follow_ups=follow_ups,
    )


def attach_follow_ups(files: Sequence[EvidenceFile]) -> tuple[FollowUp, ...]:
    """The attach deliveries a new ticket calls for: one per evidence file it was filed with
    (storage skips a file that has one at the provider already, queued by its upload)."""
    return tuple(FollowUp(ATTACH_EVIDENCE, {"file_id": f.id}) for f in files)


def ticket_to_file(
    delivery: DeliveryRecord,
    alerts: AlertRepository,
    content: TicketContent,
    catalog: AttackCatalog | None = None,
) -> tuple[BulkCreate, str, tuple[FollowUp, ...]]:
    """What a create delivery files (also one element of a bulk create), the alert's severity
    the ticket's priority reflects, and the deliveries the new ticket calls for (attaching the
    evidence files it lists)."""
    stored = alerts.get(delivery.alert_id)
    alert = stored.alert
    # Uploaded files have evidence rows of their own beyond the alert's list: only an alert
    # with more rows than listed evidence can have files to read (one query, only then).
    has_files = len(stored.evidence_ids) > len(alert.evidence)
    files = alerts.evidence_files(stored.id) if has_files else []
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
        custody=alerts.custody_checks(stored.id) if alert.evidence or files else None,
        files=files,
    )
    relates_to = delivery.payload.get("relates_to")
    item = BulkCreate(
        draft,
        delivery.idempotency_key,
        relates_to=relates_to if isinstance(relates_to, str) else None,
    )
    return item, alert.severity.value, attach_follow_ups(files)


class CreateIssue(Operation):
    """File the alert's ticket. Idempotency: the delivery's key, stamped on the ticket (a label
    or property) and searched for."""

    kind = CREATE_ISSUE

    def find_done(self, job: Job) -> Done | None:
        existing = job.provider.find_existing(job.delivery.idempotency_key)
        return None if existing is None else filed(existing)

    def perform(self, job: Job, before_send: Callable[[], None]) -> Done:
        item, severity, follow_ups = ticket_to_file(
            job.delivery, job.alerts, job.content, job.catalog
        )
        ticket = job.provider.create_ticket(
            item.draft,
            idempotency_key=item.idempotency_key,
            before_send=before_send,
            relates_to=item.relates_to,
        )
        return filed(ticket, severity, follow_ups)
