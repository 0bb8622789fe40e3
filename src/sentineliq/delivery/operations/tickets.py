"""Operations on an alert's existing ticket: each checks first that the ticket is filed.

`TicketOperation` does that check once for both steps; a kind implements `find_on` and
`perform_on`, given the ticket and what storage knows of it.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import ClassVar

from sentineliq.delivery.operations.base import Done, Job, Operation, WaitFor
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


class TicketOperation(Operation):
    # Comments and an issue's status are read directly, not through search; and such a kind
    # may have waited long for its ticket, so it is bounded by attempts, not age.
    search_lag: ClassVar[bool] = False
    ages_out: ClassVar[bool] = False

    def find_done(self, job: Job) -> Done | None:
        found = filed_ticket(job)
        return found if isinstance(found, Done) else self.find_on(job, *found)

    def perform(self, job: Job, before_send: Callable[[], None]) -> Done:
        found = filed_ticket(job)
        return found if isinstance(found, Done) else self.perform_on(job, *found, before_send)

    @abstractmethod
    def find_on(self, job: Job, context: TicketContext, ticket: TicketRef) -> Done | None:
        """`find_done` for the alert's filed ticket."""

    @abstractmethod
    def perform_on(
        self,
        job: Job,
        context: TicketContext,
        ticket: TicketRef,
        before_send: Callable[[], None],
    ) -> Done:
        """`perform` on the alert's filed ticket."""
