"""Bulk creation: while more creates are due for one provider than `bulk_threshold`, they go out
in `POST /rest/api/3/issue/bulk` calls of up to 50 instead of one request each.

How a bulk call is put together: the worker's batch (`claim_due`) is looked at first. Its fresh
creates (create_issue, never possibly sent) are grouped by provider; where that provider's due
backlog exceeds the threshold (a count bounded by the threshold, so cheap at any backlog), the
group is topped up to 50 with `claim_fresh_creates` and filed with one call. Everything else in
the batch, and any group below the threshold, goes the one-by-one way.

Safety is the single create's, element by element:
- every element is marked "possibly sent" in ONE committed transaction right before the call
  leaves, all or none (a lost lease stops the call; the deliveries still ours go one by one);
- a delivery carrying the marker never joins a bulk call: `claim_due` hands it to the
  one-by-one path, which reconciles by its label first;
- an element Jira refused is retried or dead-lettered alone, by its own error kind (a refused
  description or optional field is first repeated alone, as a single create would be);
- a failure of the whole call is every element's: an ambiguous one (timeout, connection lost
  after sending, a 5xx other than 503) marks each Unanswered, so each is looked up by its label
  before anything is sent again; a temporary refusal (429, 503, network) or one that pauses the
  provider (401, CAPTCHA) is each element's, as it would be for a single create;
- any other refusal of the whole call (404, 405, 413, a 400 not in the per-element shape) says
  nothing about the elements, only that this site will not take this bulk call: they go the
  one-by-one way at once, and the provider's creates stay one by one for `BULK_REFUSED_PAUSE_S`;
- the marker extends each lease over the call, as for one create.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from sentineliq.delivery.operations import Done
from sentineliq.delivery.operations.create import filed, ticket_to_file
from sentineliq.delivery.reports import DatabaseGoneError
from sentineliq.outbox import AttemptInfo, Created, FollowUp, PossiblySent
from sentineliq.providers.base import (
    MAX_BULK_CREATE,
    PAUSING,
    RETRYABLE,
    BulkCreate,
    BulkTicketProvider,
    ErrorKind,
    ProviderError,
    TicketOrError,
    TicketProvider,
)
from sentineliq.settings import DeliverySettings
from sentineliq.storage.deliveries import (
    CREATE_ISSUE,
    ConnectionLostError,
    DeliveryRecord,
    connection_lost,
)
from sentineliq.storage.errors import LeaseLostError

if TYPE_CHECKING:
    from sentineliq.delivery.worker import Worker

log = structlog.get_logger("sentineliq.worker")

# After a site refused a whole bulk call (not its elements), its creates go one by one this long
# before bulk is tried again: the cause (a proxy's body limit, an endpoint switched off) lasts.
BULK_REFUSED_PAUSE_S = 900.0


def sent_marker(
    settings: DeliverySettings, request_timeout_s: float, sent_at: datetime
) -> PossiblySent:
    """The "possibly sent" marker for a request leaving at `sent_at`: its outcome is known at
    most one request timeout later, so the lease holds until then and Jira's search lag counts
    from then (the single create's rule, `Worker._attempt`)."""
    in_flight = timedelta(seconds=request_timeout_s + 5)
    return PossiblySent(
        reconcile_until=sent_at + in_flight + timedelta(seconds=settings.search_lag_s),
        lease_until=sent_at + max(in_flight, timedelta(seconds=settings.lease_s)),
    )


def _created(done: Done) -> Created:
    """The event a filed ticket is recorded by (as `Worker._record_done` builds it)."""
    return Created(
        done.ticket,
        done.dropped_fields,
        AttemptInfo(message=done.message),
        follow_ups=done.follow_ups,
        ticket_severity=done.ticket_severity,
    )


def _bound(delivery: DeliveryRecord) -> structlog.BoundLogger:
    bound: structlog.BoundLogger = log.bind(
        delivery_id=delivery.id, alert_id=delivery.alert_id, provider=delivery.provider
    )
    return bound


class BulkCreates:
    """The worker's bulk path; `take` is its one call site (in `Worker.run_once`)."""

    def __init__(self, worker: Worker) -> None:
        self._worker = worker
        self.threshold = worker.settings.bulk_threshold
        # (workspace, provider) -> monotonic time before which that site gets no bulk call.
        self._refused_until: dict[tuple[str, str], float] = {}
        # Delivery id -> what its ticket calls for next (attaching its evidence files).
        self._follow_ups: dict[str, tuple[FollowUp, ...]] = {}

    def take(
        self,
        claimed: list[DeliveryRecord],
        stop: threading.Event | None,
        claim_started: float,
    ) -> tuple[list[DeliveryRecord], int]:
        """File in bulk what the batch and the backlog call for; returns the deliveries left for
        the one-by-one path and how many were handled here (topped-up ones included)."""
        if self.threshold <= 0:
            return claimed, 0
        self._follow_ups.clear()  # of an earlier batch's refused or unsent creates
        rest: list[DeliveryRecord] = []
        groups: dict[tuple[str, str], list[DeliveryRecord]] = {}
        for delivery in claimed:
            if delivery.operation == CREATE_ISSUE and delivery.reconcile_until is None:
                groups.setdefault((delivery.workspace_id, delivery.provider), []).append(delivery)
            else:
                rest.append(delivery)
        handled = 0
        for group in groups.values():
            left, done = self._file_group(group, stop, claim_started)
            rest.extend(left)
            handled += done
        rest.sort(key=lambda record: (record.available_at, record.id))
        return rest, handled

    # --- one provider's group -------------------------------------------------------------------

    def _file_group(
        self, group: list[DeliveryRecord], stop: threading.Event | None, claim_started: float
    ) -> tuple[list[DeliveryRecord], int]:
        worker = self._worker
        first = group[0]
        site = (first.workspace_id, first.provider)
        if worker._pauses.since(site, claim_started) is not None:
            return group, 0
        if self._refused_until.get(site, 0.0) > time.monotonic():
            return group, 0
        now = worker.clock()
        try:
            due = worker._deliveries.count_due_creates(
                first.workspace_id, first.provider, cap=self.threshold + 1, now=now
            )
            if len(group) + due <= self.threshold:
                return group, 0
            provider = worker._provider(first)
        except ProviderError:
            return group, 0  # the one-by-one path reports it for each delivery
        except Exception as exc:
            if connection_lost(exc):
                raise DatabaseGoneError(str(exc)) from None
            raise
        if not isinstance(provider, BulkTicketProvider):
            return group, 0
        extra = worker._deliveries.claim_fresh_creates(
            worker.worker_id,
            workspace_id=first.workspace_id,
            provider=first.provider,
            limit=max(0, MAX_BULK_CREATE - len(group)),
            lease_seconds=worker.settings.lease_s,
            now=now,
        )
        members = group + extra
        left: list[DeliveryRecord] = []
        for start in range(0, len(members), MAX_BULK_CREATE):
            chunk = members[start : start + MAX_BULK_CREATE]
            if worker._pauses.since(site, claim_started) is not None:
                left.extend(chunk)  # paused meanwhile: they wait for the resume, unsent
                continue
            left.extend(self._file_call(provider, chunk, stop))
        return left, len(members) - len(left)

    def _file_call(
        self,
        provider: TicketProvider,
        chunk: list[DeliveryRecord],
        stop: threading.Event | None,
    ) -> list[DeliveryRecord]:
        """One bulk call; returns the deliveries left for the one-by-one path."""
        worker = self._worker
        assert isinstance(provider, BulkTicketProvider)
        now = worker.clock()
        left: list[DeliveryRecord] = []
        ready: list[tuple[DeliveryRecord, BulkCreate, str]] = []
        for delivery in chunk:
            if worker.policy.too_old(delivery.age_origin, now):
                hours = worker.policy.max_age_s / 3600
                error = ProviderError(ErrorKind.CONFIG, f"older than the maximum age ({hours:g} h)")
                worker._failed(delivery, error, _bound(delivery))
                continue
            try:
                item, severity, follow_ups = ticket_to_file(
                    delivery, worker._alerts, worker._content(delivery), worker._catalogs.current()
                )
                self._follow_ups[delivery.id] = follow_ups
            except Exception as exc:
                if connection_lost(exc):
                    raise DatabaseGoneError(str(exc)) from None
                left.append(delivery)  # the one-by-one path reports why it cannot be filed
                continue
            resend = self._resend_marker(delivery, provider.request_timeout_s)
            ready.append((delivery, replace(item, before_resend=resend), severity))
        if not ready:
            return left
        if stop is not None and stop.is_set():
            for delivery, _item, _severity in ready:
                worker._reports.release(delivery, "worker shutting down")
            return left
        timeout = provider.request_timeout_s

        def mark_all() -> None:
            # One committed transaction for every element, right before the call leaves.
            sent_at = worker.clock()
            worker._deliveries.record_sent_together(
                [delivery.id for delivery, _item, _severity in ready],
                worker.worker_id,
                sent_marker(worker.settings, timeout, sent_at),
                now=sent_at,
            )

        try:
            outcomes = provider.create_tickets(
                [item for _delivery, item, _severity in ready], before_send=mark_all
            )
        except ProviderError as error:
            members = [delivery for delivery, _item, _severity in ready]
            if error.kind not in RETRYABLE and error.kind not in PAUSING:
                # Refused as a bulk call, nothing created: each is still worth one request.
                self._refuse_bulk(chunk[0], error)
                return left + members
            # Each element gets what a single create's failure gets.
            self._report_each(ready, [error] * len(ready))
            return left
        except LeaseLostError:
            # Nothing was marked or sent; those whose lease is gone are refused again there.
            return left + [delivery for delivery, _item, _severity in ready]
        except Exception as exc:
            if connection_lost(exc):
                raise DatabaseGoneError(str(exc)) from None
            raise
        log.info("delivery.bulk_sent", provider=chunk[0].provider, elements=len(ready))
        self._report_each(ready, outcomes)
        return left

    def _refuse_bulk(self, delivery: DeliveryRecord, error: ProviderError) -> None:
        site = (delivery.workspace_id, delivery.provider)
        self._refused_until[site] = time.monotonic() + BULK_REFUSED_PAUSE_S
        log.warning(
            "delivery.bulk_refused",
            workspace_id=delivery.workspace_id,
            provider=delivery.provider,
            error_kind=error.kind.value,
            error=str(error),
            one_by_one_for_s=BULK_REFUSED_PAUSE_S,
        )

    def _report_each(
        self,
        ready: list[tuple[DeliveryRecord, BulkCreate, str]],
        outcomes: Sequence[TicketOrError],
    ) -> None:
        """Record every element's outcome: the filed tickets together in one transaction, each
        refusal as a single create's. A lost database holds each report (and raises at the
        end), so an issue just filed is recorded when the database answers again."""
        worker = self._worker
        gone: DatabaseGoneError | None = None
        filed_ones: list[tuple[DeliveryRecord, Done]] = []
        refusals: list[tuple[DeliveryRecord, ProviderError]] = []
        for (delivery, _item, severity), outcome in zip(ready, outcomes, strict=True):
            if isinstance(outcome, ProviderError):
                refusals.append((delivery, outcome))
            else:
                follow_ups = self._follow_ups.pop(delivery.id, ())
                filed_ones.append((delivery, filed(outcome, severity, follow_ups)))
        # The filed tickets first: an issue that exists is recorded before anything else can fail.
        if filed_ones:
            try:
                self._record_filed(filed_ones)
            except DatabaseGoneError as error:
                gone = error
        for delivery, refusal in refusals:
            try:
                # No earlier marker (fresh creates only): a refusal proves nothing was done.
                worker._failed(delivery, refusal, _bound(delivery), refused=True)
            except DatabaseGoneError as error:
                gone = error
        if gone is not None:
            worker._reports.database_gone()
            raise gone

    def _record_filed(self, filed_ones: list[tuple[DeliveryRecord, Done]]) -> None:
        worker = self._worker
        now = worker.clock()
        events = [(delivery, _created(done)) for delivery, done in filed_ones]
        try:
            results = worker._deliveries.record_created_together(
                [(delivery.id, event) for delivery, event in events], worker.worker_id, now=now
            )
        except ConnectionLostError:
            # One by one through the reporter, which holds each while the database is away.
            gone: DatabaseGoneError | None = None
            for delivery, event in events:
                try:
                    worker._reports.report(delivery, event, now=now)
                except DatabaseGoneError as error:
                    gone = error
                except LeaseLostError:
                    worker._stats.lost_leases += 1
            if gone is not None:
                raise gone from None
            return
        for (delivery, done), result in zip(filed_ones, results, strict=True):
            bound = _bound(delivery)
            if isinstance(result, LeaseLostError):
                # Another worker owns it now; it finds the ticket by its label.
                worker._stats.lost_leases += 1
                bound.warning("delivery.lease_lost")
                continue
            worker._stats.delivered += 1
            bound.info(
                "delivery.delivered",
                operation=delivery.operation,
                issue_key=done.ticket.key if done.ticket is not None else None,
                attempts=delivery.attempts,
                dropped=[d["field"] for d in done.dropped_fields],
                bulk=True,
            )

    def _resend_marker(self, delivery: DeliveryRecord, timeout: float) -> Callable[[], None]:
        """Before an element is repeated alone: its own marker (also the lease check). A lost
        lease or database stops that one request, never the outcomes of the others."""
        worker = self._worker

        def mark() -> None:
            sent_at = worker.clock()
            try:
                worker._deliveries.record(
                    delivery.id,
                    worker.worker_id,
                    sent_marker(worker.settings, timeout, sent_at),
                    now=sent_at,
                )
            except LeaseLostError as exc:
                raise ProviderError(ErrorKind.NETWORK, f"not sent: {exc}") from None
            except Exception as exc:
                if connection_lost(exc):
                    raise ProviderError(
                        ErrorKind.NETWORK, "not sent: the database did not answer"
                    ) from None
                raise

        return mark
