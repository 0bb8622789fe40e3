"""What every operation on an existing ticket checks first: that the alert's ticket is filed."""

from __future__ import annotations

from sentineliq.delivery.operations.base import Done, Job, WaitFor
from sentineliq.outbox import DeliveryStatus, TicketRef
from sentineliq.storage.occurrences import TicketContext

# A ticket held by the storm guard or dead may wait for an operator for hours: look again
# rarely. One on its way is usually filed within seconds.
WAIT_FOR_OPERATOR_S = 300.0
WAIT_FOR_CREATE_S = 30.0


def filed_ticket(job: Job) -> tuple[TicketContext, TicketRef] | Done:
    """The alert's current ticket at the job's provider, or a Done when there will be none (its
    create was discarded). Raises WaitFor while its (newest) create is not delivered, so a
    comment never goes to a ticket that is being replaced."""
    context = job.alerts.ticket_context(job.delivery.alert_id, job.delivery.provider)
    status = context.create_status
    if status is DeliveryStatus.DISCARDED:
        return Done(None, message="its ticket was discarded from the storm guard: nothing to do")
    if status is not DeliveryStatus.DELIVERED or context.link is None:
        waiting_on_operator = status in (DeliveryStatus.HELD, DeliveryStatus.DEAD, None)
        raise WaitFor(
            WAIT_FOR_OPERATOR_S if waiting_on_operator else WAIT_FOR_CREATE_S,
            f"waiting for the alert's ticket to be filed (its create is {status or 'missing'})",
        )
    link = context.link
    return context, TicketRef(link.issue_id, link.issue_key, link.url)


def state_max_age(job: Job) -> float:
    """After a request whose answer was lost, the issue is read afresh, never from the cache."""
    return 0.0 if job.delivery.reconcile_until is not None else 30.0
