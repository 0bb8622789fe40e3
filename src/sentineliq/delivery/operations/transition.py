"""Moving a ticket when its alert is resolved or dismissed in SentinelIQ, exactly once.

The comment saying who did it and why travels in the transition request itself, so the two
happen together or not at all. Idempotency: the issue's status, read afresh after a lost
answer: a ticket already done needs nothing more.
"""

from __future__ import annotations

from collections.abc import Callable

from sentineliq.delivery.operations.base import Done, Job, Operation
from sentineliq.delivery.operations.tickets import filed_ticket, state_max_age
from sentineliq.document.adf import render_adf
from sentineliq.providers.base import ErrorKind, ProviderError
from sentineliq.storage.deliveries.enqueue import TRANSITION_ISSUE
from sentineliq.tickets.comments import status_comment

TARGETS = ("resolved", "dismissed")


class TransitionIssue(Operation):
    kind = TRANSITION_ISSUE
    search_lag = False
    ages_out = False

    def find_done(self, job: Job) -> Done | None:
        found = filed_ticket(job)
        if isinstance(found, Done):
            return found
        _context, ticket = found
        state = job.provider.issue_state(ticket.key, max_age_s=0.0)
        return Done(ticket, message=f"{ticket.key} is {state.status}") if state.done else None

    def perform(self, job: Job, before_send: Callable[[], None]) -> Done:
        payload = job.delivery.payload
        target = payload.get("to")
        if target not in TARGETS:
            raise ProviderError(ErrorKind.CONFIG, f"unknown transition target {target!r}")
        found = filed_ticket(job)
        if isinstance(found, Done):
            return found
        context, ticket = found
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
