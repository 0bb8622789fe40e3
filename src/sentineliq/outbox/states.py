"""The outbox's state machine as a table: statuses, events and the legal transitions. No I/O.

A delivery is in one of seven statuses. Events move it: a claim by a worker, the outcome of the
worker's attempt, or an operator's replay. Three events change nothing but the "possibly sent"
marker (`reconcile_until`) while the delivery stays in flight; they go together with the
attempt's outcome in one transaction. Storage persists every change through one path that
consults this table, so an illegal change is refused before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sentineliq.errors import SentinelIQError


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    IN_FLIGHT = "in_flight"  # claimed; lease_until says until when
    DELIVERED = "delivered"
    FAILED = "failed"  # a retry is scheduled at available_at
    DEAD = "dead"  # given up; replay with requeue()
    # Created held by the storm guard: waits for an operator to release or discard it.
    HELD = "held"
    DISCARDED = "discarded"  # an operator decided a held ticket is not to be filed


class AttemptOutcome(StrEnum):
    DELIVERED = "delivered"
    ADOPTED = "adopted"  # an earlier, unanswered create was found by its idempotency key
    RETRY = "retry"
    DEAD = "dead"
    PAUSED = "paused"  # the provider was paused (auth); the delivery waits, attempt not counted
    RELEASED = "released"  # handed back untried, e.g. on shutdown
    RECONCILE = "reconcile"  # deferred while the ticket system's search may lag a create
    REPLAYED = "replayed"  # an operator requeued it; the attempt counter starts again
    WAITING = "waiting"  # waiting for another delivery first (a comment for its ticket's create)
    UNHELD = "unheld"  # an operator released it from the storm guard
    DISCARDED = "discarded"  # an operator discarded it while held


RECONCILE_PHASE = "reconcile"


def phase_of(status: DeliveryStatus, reconcile_until: datetime | None) -> str:
    """The status as shown to operators: a waiting delivery that must search for an earlier,
    unanswered create before creating again is in the "reconcile" phase."""
    waiting = status in (DeliveryStatus.PENDING, DeliveryStatus.FAILED)
    return RECONCILE_PHASE if waiting and reconcile_until is not None else status.value


class EventKind(StrEnum):
    CLAIMED = "claimed"  # leased to a worker (a due one, or one whose lease expired)
    POSSIBLY_SENT = "possibly_sent"  # the request is about to leave: it may take effect
    UNANSWERED = "unanswered"  # the request went out and its answer was lost
    REFUSED = "refused"  # the ticket system's answer proves nothing was done
    CREATED = "created"  # the operation took effect, and we saw it
    ADOPTED = "adopted"  # an earlier unanswered request was found to have taken effect
    RETRY_SCHEDULED = "retry_scheduled"  # failed; due again later (the attempt counts)
    DEAD = "dead"  # failed for good; an operator may replay it
    DEFERRED = "deferred"  # waiting out the search lag before a new request (not counted)
    THROTTLED = "throttled"  # our own rate budget had no room: nothing was sent (not counted)
    PAUSED = "paused"  # the provider was paused (auth, CAPTCHA): wait for the resume
    RELEASED = "released"  # handed back untried (shutdown, lost database connection)
    REPLAYED = "replayed"  # an operator requeued it with a fresh attempt budget
    WAITING = "waiting"  # needs another delivery done first (not counted)
    UNHELD = "unheld"  # released from the storm guard by an operator
    DISCARDED = "discarded"  # discarded from the storm guard by an operator


class Marker(StrEnum):
    """What an event does to the "possibly sent" marker (reconcile_until)."""

    KEEP = "keep"
    SET = "set"  # to the event's window (when it gives one)
    CLEAR = "clear"


class Count(StrEnum):
    """What an event does to the attempts counter, which the claim has already raised by one."""

    CLAIM = "claim"  # + 1
    COUNTED = "counted"  # the claim's attempt stays counted
    HANDED_BACK = "handed_back"  # - 1: the attempt does not use up the retry budget
    STAYS = "stays"  # within an attempt: no change
    RESET = "reset"  # 0: a fresh budget


_ = DeliveryStatus
PENDING, IN_FLIGHT, DELIVERED, FAILED, DEAD, HELD = (
    _.PENDING,
    _.IN_FLIGHT,
    _.DELIVERED,
    _.FAILED,
    _.DEAD,
    _.HELD,
)


@dataclass(frozen=True)
class Rule:
    event: EventKind
    sources: frozenset[DeliveryStatus]
    target: DeliveryStatus
    outcome: AttemptOutcome | None  # the history row it writes, if any
    audit: str | None  # the audit action it writes, if any
    count: Count
    marker: Marker
    by_lease_holder: bool = True  # reported by the worker holding the lease
    live_lease: bool = False  # the lease must not have expired yet, not merely be unclaimed

    @property
    def ends_lease(self) -> bool:
        return self.target is not IN_FLIGHT


def _rule(
    event: EventKind,
    sources: Iterable[DeliveryStatus],
    target: DeliveryStatus,
    outcome: AttemptOutcome | None,
    audit: str | None,
    count: Count,
    marker: Marker,
    *,
    by_lease_holder: bool = True,
    live_lease: bool = False,
) -> Rule:
    return Rule(
        event, frozenset(sources), target, outcome, audit, count, marker,
        by_lease_holder=by_lease_holder, live_lease=live_lease,
    )  # fmt: skip


_E, _O = EventKind, AttemptOutcome
# The table. A cohesive table, so kept in one piece.
# event              from                        to         history row   audit action
RULES: dict[EventKind, Rule] = {
    r.event: r
    for r in (
        _rule(_E.CLAIMED, (PENDING, FAILED, IN_FLIGHT), IN_FLIGHT, None, None,
              Count.CLAIM, Marker.KEEP, by_lease_holder=False),  # in flight: lease expired
        _rule(_E.POSSIBLY_SENT, (IN_FLIGHT,), IN_FLIGHT, None, None, Count.STAYS, Marker.SET,
              live_lease=True),  # nothing may be sent once another worker could claim it
        _rule(_E.UNANSWERED, (IN_FLIGHT,), IN_FLIGHT, None, None, Count.STAYS, Marker.SET),
        _rule(_E.REFUSED, (IN_FLIGHT,), IN_FLIGHT, None, None, Count.STAYS, Marker.CLEAR),
        _rule(_E.CREATED, (IN_FLIGHT,), DELIVERED, _O.DELIVERED, "delivery.delivered",
              Count.COUNTED, Marker.CLEAR),
        _rule(_E.ADOPTED, (IN_FLIGHT,), DELIVERED, _O.ADOPTED, "delivery.delivered",
              Count.COUNTED, Marker.CLEAR),
        _rule(_E.RETRY_SCHEDULED, (IN_FLIGHT,), FAILED, _O.RETRY, "delivery.failed",
              Count.COUNTED, Marker.KEEP),
        _rule(_E.DEAD, (IN_FLIGHT,), DEAD, _O.DEAD, "delivery.dead", Count.COUNTED, Marker.KEEP),
        _rule(_E.DEFERRED, (IN_FLIGHT,), PENDING, _O.RECONCILE, "delivery.deferred",
              Count.HANDED_BACK, Marker.KEEP),
        _rule(_E.THROTTLED, (IN_FLIGHT,), PENDING, _O.RETRY, "delivery.deferred",
              Count.HANDED_BACK, Marker.KEEP),
        _rule(_E.PAUSED, (IN_FLIGHT,), PENDING, _O.PAUSED, "delivery.waiting",
              Count.HANDED_BACK, Marker.KEEP),
        _rule(_E.RELEASED, (IN_FLIGHT,), PENDING, _O.RELEASED, "delivery.released",
              Count.HANDED_BACK, Marker.KEEP),
        _rule(_E.REPLAYED, (DEAD, FAILED), PENDING, _O.REPLAYED, "delivery.requeued",
              Count.RESET, Marker.KEEP, by_lease_holder=False),
        _rule(_E.WAITING, (IN_FLIGHT,), PENDING, _O.WAITING, "delivery.deferred",
              Count.HANDED_BACK, Marker.KEEP),
        _rule(_E.UNHELD, (HELD,), PENDING, _O.UNHELD, "delivery.unheld",
              Count.STAYS, Marker.KEEP, by_lease_holder=False),
        _rule(_E.DISCARDED, (HELD,), _.DISCARDED, _O.DISCARDED, "delivery.discarded",
              Count.STAYS, Marker.KEEP, by_lease_holder=False),
    )
}  # fmt: skip

# The legal transitions, (status, event) -> status; every other pair is illegal.
TRANSITIONS: dict[tuple[DeliveryStatus, EventKind], DeliveryStatus] = {
    (source, rule.event): rule.target for rule in RULES.values() for source in rule.sources
}

# Events that leave the delivery in flight: they precede the attempt's outcome, if any.
MARKER_EVENTS = frozenset(r.event for r in RULES.values() if r.by_lease_holder and not r.ends_lease)


class IllegalTransitionError(SentinelIQError, ValueError):
    """The event cannot happen to a delivery in that status (e.g. replaying a delivered one)."""

    def __init__(self, status: DeliveryStatus, event: EventKind) -> None:
        super().__init__(f"a {status.value} delivery cannot be {event.value}")
        self.status = status
        self.event = event


def next_status(status: DeliveryStatus, event: EventKind) -> DeliveryStatus:
    """Where `event` takes a delivery in `status`; IllegalTransitionError if it cannot happen."""
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise IllegalTransitionError(status, event) from None


def settle(status: DeliveryStatus, events: Iterable[EventKind]) -> DeliveryStatus:
    """Apply one report: marker events first, then at most one outcome that ends the lease."""
    sequence = list(events)
    if not sequence:
        raise ValueError("a report needs at least one event")
    for event in sequence[:-1]:
        if event not in MARKER_EVENTS:
            raise ValueError(f"{event.value} must be the last event of a report")
    for event in sequence:
        status = next_status(status, event)
    return status


def marker_after(events: Iterable[EventKind]) -> Marker:
    """The combined effect of a report's events on the marker: the last that changes it wins."""
    effect = Marker.KEEP
    for event in events:
        if RULES[event].marker is not Marker.KEEP:
            effect = RULES[event].marker
    return effect
