"""Reporting an alert's repeats on its ticket: one comment per window, exactly once.

The issue's status is read first (cached briefly; afresh after a lost answer), since many sites
cannot send webhooks: an open ticket gets the comment (and a higher priority when the severity
rose); a done one is reopened within the reopen window, replaced by a new linked ticket after
it, or left alone when its resolution says so ("Won't Fix"). Every step is safe to repeat
(a transition is only taken from done, priority and property are set to values), and the
comment, the last step, carries the delivery's key as its marker: finding it means all is done.
"""

from __future__ import annotations

from collections.abc import Callable

from sentineliq.alerts.model import Severity
from sentineliq.delivery.operations.base import Done, Job
from sentineliq.delivery.operations.tickets import TicketOperation, state_max_age
from sentineliq.document.adf import render_adf
from sentineliq.lifecycle.decisions import Action, decide
from sentineliq.lifecycle.occurrences import SEVERITY_RANK, rises, summarize
from sentineliq.outbox import FollowUp, TicketRef
from sentineliq.providers.base import IssueState, TicketProvider
from sentineliq.storage.deliveries import CREATE_ISSUE
from sentineliq.storage.deliveries.enqueue import REPORT_OCCURRENCES
from sentineliq.storage.occurrences import TicketContext, payload_range
from sentineliq.tickets.build import PRIORITY_FOR_SEVERITY
from sentineliq.tickets.comments import occurrences_comment
from sentineliq.tickets.layout import iso_utc

OCCURRENCES_PROPERTY = "sentineliq.occurrences"


class ReportOccurrences(TicketOperation):
    kind = REPORT_OCCURRENCES

    def find_on(self, job: Job, context: TicketContext, ticket: TicketRef) -> Done | None:
        if job.provider.find_comment(ticket.key, job.delivery.idempotency_key) is None:
            return None
        return Done(ticket, message=f"commented on {ticket.key}")

    def perform_on(
        self,
        job: Job,
        context: TicketContext,
        ticket: TicketRef,
        before_send: Callable[[], None],
    ) -> Done:
        provider, policy = job.provider, job.provider.lifecycle
        first, last = payload_range(job.delivery.payload)
        repeats = job.alerts.occurrences(context.alert_id, first, last)
        state = provider.issue_state(ticket.key, max_age_s=state_max_age(job))
        newest = max((o.received_at for o in repeats), default=None)
        decision = decide(state, policy, job.now, newest_repeat_at=newest)
        if decision.action is Action.SUPPRESS:
            return Done(ticket, message=decision.reason)
        if decision.action is Action.RELATE:
            # The new ticket, then these repeats reported on it (that report waits for it).
            follow_ups = (
                FollowUp(CREATE_ISSUE, {"relates_to": ticket.key}),
                FollowUp(REPORT_OCCURRENCES, {"first_seq": first, "last_seq": last}),
            )
            return Done(ticket, message=decision.reason, follow_ups=follow_ups)
        reopened_from = None
        if decision.action is Action.REOPEN:
            reopened_from = state.resolution or state.status
            state = provider.transition(
                ticket.key, policy.reopen_transitions, before_send=before_send
            )
        severity = _raise_priority(provider, ticket, state, context, before_send)
        summary = summarize([o.facts() for o in repeats], total=context.occurrence_count)
        provider.set_issue_property(
            ticket.key,
            OCCURRENCES_PROPERTY,
            {
                "count": context.occurrence_count,
                "first_seen": iso_utc(context.detected_at),
                "last_seen": iso_utc(context.last_seen_at or context.detected_at),
                "peak_severity": context.peak_severity,
            },
        )
        stored = job.alerts.get(context.alert_id)
        link = str(stored.alert.link) if stored.alert.link else None
        body = render_adf(
            occurrences_comment(
                summary, reopened_from=reopened_from, link=link, content=job.content
            )
        )
        provider.add_comment(
            ticket.key, body, marker=job.delivery.idempotency_key, before_send=before_send
        )
        said = [f"{summary.count} repeat{'s' if summary.count != 1 else ''} on {ticket.key}"]
        if reopened_from is not None:
            said.insert(0, f"reopened {ticket.key}")
        return Done(ticket, message="; ".join(said), ticket_severity=severity)


def _raise_priority(
    provider: TicketProvider,
    ticket: TicketRef,
    state: IssueState,
    context: TicketContext,
    before_send: Callable[[], None],
) -> str | None:
    """Raise the ticket's priority to the alert's peak severity when that rose above what the
    ticket reflects; never lower it (a person may have raised it by hand). Returns the severity
    the ticket now reflects, or None when unchanged."""
    peak = Severity(context.peak_severity)
    reflected = Severity(
        context.link.severity if context.link and context.link.severity else context.severity
    )
    if not provider.lifecycle.raise_priority or not rises(peak, reflected):
        return None
    wanted = provider.priority_name(PRIORITY_FOR_SEVERITY[peak])
    # The rank of the ticket's priority, by the severities whose configured names match it; a
    # priority the map does not name (set by hand) is left alone.
    ranks = {
        provider.priority_name(PRIORITY_FOR_SEVERITY[s]).casefold(): SEVERITY_RANK[s]
        for s in sorted(Severity, key=SEVERITY_RANK.__getitem__)
    }
    current = ranks.get((state.priority or "").casefold())
    if current is not None and current < SEVERITY_RANK[peak]:
        provider.set_priority(ticket.key, wanted, before_send=before_send)
    return peak.value
