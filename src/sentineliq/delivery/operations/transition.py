"""Moving a ticket when its alert is resolved or dismissed in SentinelIQ, exactly once.

The comment saying who did it and why travels in the transition request itself, so the two
happen together or not at all. Idempotency: the issue's status, read afresh after a lost
answer: a ticket already done needs nothing more.
"""

from __future__ import annotations

from collections.abc import Callable

from sentineliq.delivery.operations.base import Done, Job
from sentineliq.delivery.operations.tickets import TicketOperation, state_max_age
from sentineliq.document.adf import render_adf
from sentineliq.outbox import TicketRef
from sentineliq.providers.base import ErrorKind, ProviderError
from sentineliq.storage.deliveries.enqueue import TRANSITION_ISSUE
from sentineliq.storage.occurrences import TicketContext
from sentineliq.tickets.comments import status_comment

TARGETS = ("resolved", "dismissed")


class TransitionIssue(TicketOperation):
    kind = TRANSITION_ISSUE

    def find_on(self, job: Job, context: TicketContext, ticket: TicketRef) -> Done | None:
        state = job.provider.issue_state(ticket.key, max_age_s=0.0)
        return Done(ticket, message=f"{ticket.key} is {state.status}") if state.done else None

    def perform(self, job: Job, before_send: Callable[[], None]) -> Done:
        target = job.delivery.payload.get("to")
        if target not in TARGETS:
            raise ProviderError(ErrorKind.CONFIG, f"unknown transition target {target!r}")
        return super().perform(job, before_send)

    def perform_on(
        self,
        job: Job,
        context: TicketContext,
        ticket: TicketRef,
        before_send: Callable[[], None],
    ) -> Done:
        payload = job.delivery.payload
        target = payload["to"]
        if context.status != target:
            # Reopened (or changed again) in SentinelIQ since this was queued: the ticket
            # follows the alert as it is now, not as it was.
            return Done(
                ticket, message=f"the alert is {context.status} now: {ticket.key} left as is"
            )
        provider, policy = job.provider, job.provider.lifecycle
        state = provider.issue_state(ticket.key, max_age_s=state_max_age(job))
        if state.done:
            return Done(ticket, message=f"{ticket.key} is {state.status} already")
        names = policy.resolve_transitions if target == "resolved" else policy.dismiss_transitions
        resolution = (
            policy.resolve_resolution if target == "resolved" else policy.dismiss_resolution
        )
        stored = job.alerts.get(job.delivery.alert_id)
        comment = status_comment(
            status=str(target),
            actor=str(payload.get("actor") or "someone"),
            reason=str(payload["reason"]) if payload.get("reason") else None,
            link=str(stored.alert.link) if stored.alert.link else None,
        )
        after = provider.transition(
            ticket.key,
            names,
            resolution=resolution,
            comment=render_adf(comment),
            before_send=before_send,
        )
        return Done(ticket, message=f"{ticket.key} moved to {after.status}")
