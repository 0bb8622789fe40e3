"""The outbox's transition table, exhaustively: every (status, event) pair is legal or refused."""

from __future__ import annotations

import itertools

import pytest

from sentineliq.outbox import (
    RULES,
    TRANSITIONS,
    AttemptOutcome,
    DeliveryStatus,
    EventKind,
    IllegalTransitionError,
    Marker,
    next_status,
    settle,
)
from sentineliq.outbox.states import MARKER_EVENTS, marker_after

S, E = DeliveryStatus, EventKind

# Written out by hand, independently of the table: the transitions the outbox allows.
LEGAL: dict[tuple[DeliveryStatus, EventKind], DeliveryStatus] = {
    (S.PENDING, E.CLAIMED): S.IN_FLIGHT,
    (S.FAILED, E.CLAIMED): S.IN_FLIGHT,
    (S.IN_FLIGHT, E.CLAIMED): S.IN_FLIGHT,  # its lease expired
    (S.IN_FLIGHT, E.POSSIBLY_SENT): S.IN_FLIGHT,
    (S.IN_FLIGHT, E.UNANSWERED): S.IN_FLIGHT,
    (S.IN_FLIGHT, E.REFUSED): S.IN_FLIGHT,
    (S.IN_FLIGHT, E.CREATED): S.DELIVERED,
    (S.IN_FLIGHT, E.ADOPTED): S.DELIVERED,
    (S.IN_FLIGHT, E.RETRY_SCHEDULED): S.FAILED,
    (S.IN_FLIGHT, E.DEAD): S.DEAD,
    (S.IN_FLIGHT, E.DEFERRED): S.PENDING,
    (S.IN_FLIGHT, E.THROTTLED): S.PENDING,
    (S.IN_FLIGHT, E.PAUSED): S.PENDING,
    (S.IN_FLIGHT, E.RELEASED): S.PENDING,
    (S.DEAD, E.REPLAYED): S.PENDING,
    (S.FAILED, E.REPLAYED): S.PENDING,
    (S.IN_FLIGHT, E.WAITING): S.PENDING,  # a comment waits for its ticket's create
    (S.HELD, E.UNHELD): S.PENDING,  # the storm guard's hold, released by an operator
    (S.HELD, E.DISCARDED): S.DISCARDED,
}

PAIRS = list(itertools.product(DeliveryStatus, EventKind))


def test_the_table_is_the_written_out_one() -> None:
    assert TRANSITIONS == LEGAL
    assert set(RULES) == set(EventKind)


@pytest.mark.parametrize(("status", "event"), [p for p in PAIRS if p in LEGAL])
def test_legal_transition(status: DeliveryStatus, event: EventKind) -> None:
    assert next_status(status, event) is LEGAL[(status, event)]


@pytest.mark.parametrize(("status", "event"), [p for p in PAIRS if p not in LEGAL])
def test_illegal_transition(status: DeliveryStatus, event: EventKind) -> None:
    with pytest.raises(IllegalTransitionError) as raised:
        next_status(status, event)
    assert (raised.value.status, raised.value.event) == (status, event)
    assert status.value in str(raised.value)


def test_nothing_leaves_delivered_or_discarded() -> None:
    assert [e for e in EventKind if (S.DELIVERED, e) in TRANSITIONS] == []
    assert [e for e in EventKind if (S.DISCARDED, e) in TRANSITIONS] == []


def test_a_held_delivery_is_never_claimed_nor_reported_on() -> None:
    assert {e for e in EventKind if (S.HELD, e) in TRANSITIONS} == {E.UNHELD, E.DISCARDED}


def test_only_claims_and_replays_come_from_outside_the_lease() -> None:
    outside = {r.event for r in RULES.values() if not r.by_lease_holder}
    assert outside == {E.CLAIMED, E.REPLAYED, E.UNHELD, E.DISCARDED}
    assert {r.event for r in RULES.values() if r.live_lease} == {E.POSSIBLY_SENT}


def test_every_outcome_that_ends_a_lease_writes_history_and_audit() -> None:
    for rule in RULES.values():
        writes = rule.outcome is not None
        assert writes == (rule.audit is not None)
        operator = rule.event in {E.REPLAYED, E.UNHELD, E.DISCARDED}
        assert writes == ((rule.ends_lease and rule.by_lease_holder) or operator)
    assert {r.outcome for r in RULES.values() if r.outcome} == set(AttemptOutcome)


def test_marker_events_precede_the_outcome_in_one_report() -> None:
    assert {E.POSSIBLY_SENT, E.UNANSWERED, E.REFUSED} == MARKER_EVENTS
    assert settle(S.IN_FLIGHT, [E.UNANSWERED, E.RETRY_SCHEDULED]) is S.FAILED
    assert settle(S.IN_FLIGHT, [E.REFUSED, E.PAUSED]) is S.PENDING
    with pytest.raises(ValueError, match="last event"):
        settle(S.IN_FLIGHT, [E.DEAD, E.REFUSED])
    with pytest.raises(ValueError, match="at least one"):
        settle(S.IN_FLIGHT, [])
    with pytest.raises(IllegalTransitionError):
        settle(S.PENDING, [E.REFUSED, E.DEAD])  # not in flight: nobody may report on it


@pytest.mark.parametrize(
    ("events", "effect"),
    [
        ([E.RETRY_SCHEDULED], Marker.KEEP),
        ([E.UNANSWERED, E.RETRY_SCHEDULED], Marker.SET),
        ([E.REFUSED, E.DEAD], Marker.CLEAR),  # the outcome keeps what the refusal cleared
        ([E.CREATED], Marker.CLEAR),
        ([E.ADOPTED], Marker.CLEAR),
        ([E.POSSIBLY_SENT], Marker.SET),
    ],
)
def test_marker_effect_of_a_report(events: list[EventKind], effect: Marker) -> None:
    assert marker_after(events) is effect
