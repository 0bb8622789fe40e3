"""Test shorthands for the reports the outbox tests make most: each builds one event and hands
it to `record`, the only path that writes. The worker reports events itself; these exist so the
storage tests read as the scenarios they check (`ReportingRepository(db).mark_failed(...)`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sentineliq.outbox import (
    Adopted,
    AttemptInfo,
    AttemptOutcome,
    Created,
    Deferred,
    DroppedField,
    Failure,
    Paused,
    PossiblySent,
    Released,
    Throttled,
    TicketRef,
    failed,
)
from sentineliq.storage.deliveries import DeliveryRecord, DeliveryRepository
from sentineliq.storage.deliveries.transitions import TransitionMixin

# What `defer` may record: waiting out the search lag, or for room in our own rate budget.
_DEFERRALS: dict[AttemptOutcome, type[Deferred]] = {
    AttemptOutcome.RECONCILE: Deferred,
    AttemptOutcome.RETRY: Throttled,
}


class ShorthandMixin(TransitionMixin):
    def mark_sending(
        self,
        delivery_id: str,
        worker_id: str,
        *,
        reconcile_until: datetime | None = None,
        lease_until: datetime | None = None,
        now: datetime | None = None,
    ) -> DeliveryRecord:
        """Record that a request is about to be sent (PossiblySent); commit this before sending.

        Sets `last_sent_at` (and `reconcile_until` when given) only while the lease is ours and
        has not expired at `now` (pass the clock given to `claim_due`); else LeaseLostError, and
        nothing must be sent. `lease_until` extends the lease to cover the request, so no other
        worker can claim the delivery while its create is in flight. Not audited: it is
        bookkeeping within an attempt, not a change of state; the attempt's outcome is.
        """
        event = PossiblySent(reconcile_until=reconcile_until, lease_until=lease_until)
        return self.record(delivery_id, worker_id, event, now=now)

    def mark_delivered(
        self,
        delivery_id: str,
        worker_id: str,
        ticket: tuple[str, str, str],
        dropped_fields: Sequence[Mapping[str, str] | DroppedField | str] = (),
        *,
        adopted: bool = False,
        attempt: AttemptInfo | None = None,
        now: datetime | None = None,
    ) -> DeliveryRecord:
        """Record the ticket `(issue_id, key, url)`: created now, or `adopted` (found by its
        idempotency key after an unanswered create). One transaction with the ticket link, the
        history row and the audit entry; clears `reconcile_until`. Raises LeaseLostError if the
        lease is no longer ours.

        `dropped_fields`: [{"field": ..., "reason": ...}] (plain names are accepted too).
        """
        if isinstance(dropped_fields, str):
            raise TypeError("dropped_fields is a sequence of fields, not one string")
        kind = Adopted if adopted else Created
        event = kind(TicketRef(*ticket), dropped_fields, attempt or AttemptInfo())
        return self.record(delivery_id, worker_id, event, now=now)

    def mark_failed(
        self,
        delivery_id: str,
        worker_id: str,
        *,
        error_kind: str,
        message: str,
        retry_at: datetime | None,
        http_status: int | None = None,
        details: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> DeliveryRecord:
        """Record a failed attempt: retried at `retry_at`, or dead (given up) when it is None.

        `message` is stored and shown to operators: pass classified, secret-free text, including
        the ticket system's per-field messages (`details` may hold them structured). The
        "possibly sent" marker stays; report Unanswered or Refused with `record` to change it.
        """
        failure = Failure(error_kind, message, http_status, details)
        return self.record(delivery_id, worker_id, failed(failure, retry_at), now=now)

    def defer(
        self,
        delivery_id: str,
        worker_id: str,
        *,
        available_at: datetime,
        reason: str,
        outcome: AttemptOutcome | str = AttemptOutcome.RECONCILE,
        now: datetime | None = None,
    ) -> DeliveryRecord:
        """Put a claimed delivery back to pending until `available_at`, without counting the
        attempt: outcome "reconcile" while the search may lag an earlier create (Deferred), or
        "retry" when our own rate budget had no room (Throttled). `last_error` is kept."""
        kind = _DEFERRALS.get(AttemptOutcome(outcome))
        if kind is None:
            raise ValueError(f"defer cannot record the outcome {AttemptOutcome(outcome).value!r}")
        event = kind(available_at, reason)
        return self.record(delivery_id, worker_id, event, now=now)

    def release(
        self,
        delivery_id: str,
        worker_id: str,
        *,
        reason: str = "handed back untried",
        now: datetime | None = None,
    ) -> DeliveryRecord:
        """Hand a claimed delivery back untried (e.g. on shutdown), due at once: the attempt is
        not counted."""
        return self.record(delivery_id, worker_id, Released(reason), now=now)

    def release_for_pause(
        self,
        delivery_id: str,
        worker_id: str,
        *,
        reason: str,
        error_kind: str = "auth",
        http_status: int | None = None,
        details: Mapping[str, Any] | None = None,
        config_version: int | None = None,
        now: datetime | None = None,
    ) -> DeliveryRecord:
        """Pause the delivery's provider and hand the delivery back to wait for it, in one
        transaction: pending (never dead), attempt not counted, history outcome "paused".

        The provider pause is idempotent and behaves as `ProviderRepository.pause` (including
        `config_version`), so calling that first is harmless but not needed. The pause is
        committed even when the lease turns out to be lost (the auth failure is true either
        way); LeaseLostError is raised afterwards.
        """
        failure = Failure(error_kind, reason, http_status, details)
        return self.record(delivery_id, worker_id, Paused(failure, config_version), now=now)


class ReportingRepository(ShorthandMixin, DeliveryRepository):
    """The outbox repository with the test shorthands."""
