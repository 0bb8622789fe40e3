"""The outbox worker: claims due deliveries, files their tickets exactly once, records outcomes.

Exactly once, across crashes and lost answers: before a create is sent the delivery is marked
"possibly sent" (reconcile_until) in its own committed transaction. Whoever handles it next (this
worker after an unanswered request, or another after a crash) first searches the ticket system
for the delivery's idempotency key and adopts what it finds; only when the search has stayed
empty past the ticket system's search lag does it create again.

The worker reports what happened as events (`sentineliq.outbox`); storage decides what they mean
for the row. A lost database connection is an event too: the worker keeps the outcome it holds
(say, the issue it just created) and records it as soon as the database answers again, then
hands back every other delivery leased to it, instead of leaving them to wait for their leases to
expire.

Requests in flight: a worker runs `concurrency` lanes, threads that each run the same claim ->
handle loop under a lease owner id of their own (`<worker_id>:lane-<k>`), so every lease still
has exactly one owner doing one thing at a time, and what holds for several workers (the claim,
the lease checks, the possibly-sent marker, handing back on a lost database) holds for lanes
unchanged. The lanes share the site budget (the limiter), the stop signal and what they learn
about paused providers; each keeps its own providers (HTTP connections) and counters. The
reconcile poll runs once per worker, beside the lanes.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import structlog

from sentineliq import metrics
from sentineliq.delivery.attack_schedule import AttackSyncSchedule, Periodic
from sentineliq.delivery.batch import ClaimedBatch, claim_batch
from sentineliq.delivery.bulk import BulkCreates
from sentineliq.delivery.operations import (
    Done,
    EvidenceAccess,
    Job,
    Operation,
    WaitFor,
    operation_for,
)
from sentineliq.delivery.reconcile_schedule import ReconcileSchedule
from sentineliq.delivery.reports import DatabaseGoneError, Reporter, WorkerStats
from sentineliq.delivery.retry import Action, RetryPolicy
from sentineliq.errors import TicketSystemError
from sentineliq.outbox import (
    Adopted,
    AttemptInfo,
    Created,
    Deferred,
    Event,
    Failure,
    Paused,
    PossiblySent,
    Refused,
    Throttled,
    Unanswered,
    Waiting,
    failed,
)
from sentineliq.providers.base import ErrorKind, ProviderError, TicketProvider
from sentineliq.ratelimit import SiteRateLimiter
from sentineliq.services.attack import CatalogSource
from sentineliq.services.context import AppContext
from sentineliq.services.providers import ProviderConfigError, open_provider
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.blobs import LocalFolderStore
from sentineliq.storage.deliveries import (
    DeliveryRecord,
    DeliveryRepository,
    connection_lost,
)
from sentineliq.storage.errors import LeaseLostError, NotFoundError
from sentineliq.storage.evidencefiles import EvidenceFileRepository
from sentineliq.storage.providers import ProviderRepository
from sentineliq.storage.ratebudget import DatabaseRateLimiter
from sentineliq.tickets.content import TicketContent, content_from_config

log = structlog.get_logger("sentineliq.worker")


class _Opened(NamedTuple):
    """A provider opened from one config version, with that version's content settings."""

    version: int
    provider: TicketProvider
    content: TicketContent


class _SendFailed(TicketSystemError):
    """The operation's request failed. `refused`: the ticket system's answer proves nothing was
    done, and no earlier unanswered request of this delivery is outstanding."""

    def __init__(self, error: ProviderError, *, refused: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.refused = refused


# Searches while waiting out the search lag start `reconcile_interval_s` apart and double up to
# this: a lag of minutes costs a dozen searches, not a hundred.
RECONCILE_INTERVAL_CAP_S = 60.0


def reconcile_wait(
    sent_at: datetime | None,
    now: datetime,
    *,
    base_s: float,
    cap_s: float = RECONCILE_INTERVAL_CAP_S,
) -> timedelta:
    """The wait before the next search for an unanswered create sent at `sent_at`.

    As long as the search has already been empty (so the intervals double), between `base_s` and
    `cap_s`, with +-25 % jitter so workers do not search in lockstep. Derived from the stored
    send time alone, so a restarted worker carries on where the crashed one stopped.
    """
    waited = (now - sent_at).total_seconds() if sent_at is not None else 0.0
    ceiling = max(base_s, cap_s)
    wait = min(ceiling, max(base_s, waited)) * random.uniform(0.75, 1.25)
    return timedelta(seconds=wait)


def _ages_out(kind: str) -> bool:
    try:
        return operation_for(kind).ages_out
    except ProviderError:  # an unknown kind: it is dead-lettered as such anyway
        return True


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


# How often a worker with lanes looks after them (and the reconcile schedule) while they work.
LANE_WATCH_S = 0.1


class _LaneStop(threading.Event):
    """What a lane stops on: the worker's stop signal, seen at once, or its own flag (another lane
    failed until idle, or the worker is leaving), seen at the latest after one poll interval."""

    def __init__(self, outer: threading.Event) -> None:
        super().__init__()
        self._outer = outer

    def is_set(self) -> bool:
        return self._outer.is_set() or super().is_set()

    def wait(self, timeout: float | None = None) -> bool:
        if super().is_set():
            return True
        return self._outer.wait(timeout) or super().is_set()


class _RecentPauses:
    """When each provider was last paused, shared by a worker's lanes: a delivery claimed before
    its provider was paused (by any lane) waits for the resume without a request, as a CAPTCHA
    lock is prolonged by every further request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paused: dict[tuple[str, str], tuple[float, ProviderError]] = {}

    def note(self, key: tuple[str, str], error: ProviderError) -> None:
        with self._lock:
            self._paused[key] = (time.monotonic(), error)

    def since(self, key: tuple[str, str], started: float) -> ProviderError | None:
        """The error that paused the provider at or after `started` (time.monotonic())."""
        with self._lock:
            found = self._paused.get(key)
        return found[1] if found is not None and found[0] >= started else None


class Worker:
    def __init__(
        self,
        app: AppContext,
        *,
        worker_id: str | None = None,
        batch_size: int = 5,
        policy: RetryPolicy | None = None,
        limiter: SiteRateLimiter | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        concurrency: int | None = None,
    ) -> None:
        """`concurrency`: requests kept in flight, one lane each (default: the settings'); each
        lane claims up to `batch_size` deliveries at a time."""
        self.app = app
        self.settings = app.settings.delivery
        self.worker_id = worker_id or default_worker_id()
        self.batch_size = batch_size
        self.concurrency = self.settings.concurrency if concurrency is None else concurrency
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.policy = policy or RetryPolicy.from_settings(self.settings)
        self.limiter = limiter or DatabaseRateLimiter(
            app.db,
            rate=self.settings.rate_per_s,
            backoff_base_s=self.settings.retry_base_s,
            backoff_cap_s=self.settings.retry_cap_s,
        )
        self.clock = clock
        self._stats = WorkerStats()
        self._lanes: list[Worker] = []  # while run() runs them
        self._deliveries = DeliveryRepository(app.db)
        self._alerts = AlertRepository(app.db)
        self._catalogs = CatalogSource(app)  # the ATT&CK catalog tickets are enriched from
        self._configs = ProviderRepository(app.db, app.secrets)
        self._evidence = EvidenceAccess(
            EvidenceFileRepository(app.db),
            LocalFolderStore(app.settings.evidence_dir),
            app.settings.evidence,
        )
        # One provider per (workspace, provider) and config version: a new config opens a new one.
        self._providers: dict[tuple[str, str], _Opened] = {}
        # The batch in hand: its creates' alerts and its providers' config versions.
        self._batch = ClaimedBatch()
        # Providers paused lately, with the error that paused them (shared with the lanes).
        self._pauses = _RecentPauses()
        # Reports, held while the database does not answer.
        self._reports = Reporter(self._deliveries, self.worker_id, self._stats, clock)
        self._bulk = BulkCreates(self)

    @property
    def stats(self) -> WorkerStats:
        """What this worker did; while its lanes run, a snapshot of their sum."""
        lanes = self._lanes
        if not lanes:
            return self._stats
        total = WorkerStats()
        for part in (self._stats, *(lane._stats for lane in lanes)):
            total.add(part)
        return total

    # --- loop -----------------------------------------------------------------------------------

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Claim one batch and work through it; returns how many were claimed.

        When `stop` is set mid-batch, the deliveries not yet started are released untried.
        DatabaseGoneError when the database stops answering mid-batch: the next call records
        what was held and hands back the rest of the batch first.
        """
        self._reports.reconnect()
        claim_started = time.monotonic()
        self._batch = claim_batch(
            self.app.db,
            self._deliveries,
            self._configs,
            self.worker_id,
            limit=self.batch_size,
            lease_seconds=self.settings.lease_s,
            now=self.clock(),
        )
        try:
            # Creates of a provider with a backlog go out in bulk (delivery/bulk.py).
            claimed, bulk_handled = self._bulk.take(self._batch.deliveries, stop, claim_started)
        except DatabaseGoneError:
            self._reports.database_gone()
            raise
        for index, delivery in enumerate(claimed):
            if stop is not None and stop.is_set():
                for unstarted in claimed[index:]:
                    self._reports.release(unstarted, "worker shutting down")
                break
            pausing = self._pauses.since((delivery.workspace_id, delivery.provider), claim_started)
            try:
                if pausing is not None:
                    # Its provider was paused a moment ago (e.g. a CAPTCHA lock, which every
                    # further request prolongs): it waits for the resume without a request.
                    self._failed(delivery, pausing, log.bind(delivery_id=delivery.id))
                    continue
                self._handle(delivery)
            except DatabaseGoneError:
                self._reports.database_gone()
                raise
        return bulk_handled + len(claimed)

    def run(
        self,
        *,
        until_idle: bool = False,
        stop: threading.Event | None = None,
        poll_interval: float = 1.0,
    ) -> WorkerStats:
        """Work until `stop` is set, or with `until_idle` until nothing is due any more.

        Until idle waits for deliveries scheduled in the near future (retries, search lag)
        only when they are due within `poll_interval * 30`; later ones are left for a later run.
        With `concurrency` > 1 the lanes do the work and this thread watches `stop`.
        """
        stop = stop or threading.Event()
        # Inbound sync and the ATT&CK schedule, between batches.
        reconcile = Periodic(ReconcileSchedule(self.app).tick, AttackSyncSchedule(self.app).tick)
        if self.concurrency > 1:
            return self._run_lanes(stop, reconcile, until_idle, poll_interval)
        try:
            self._loop(stop, reconcile, until_idle=until_idle, poll_interval=poll_interval)
        finally:
            self.close()
        return self.stats

    def _loop(
        self,
        stop: threading.Event,
        reconcile: Periodic | None,
        *,
        until_idle: bool,
        poll_interval: float,
    ) -> None:
        """One lane's claim -> handle loop; `reconcile` None: another thread runs it."""
        while not stop.is_set():
            try:
                claimed = self.run_once(stop)
            except Exception as exc:
                # The database may be briefly unreachable; a worker that runs forever
                # must outlive that. What it holds is recorded when the database is back.
                if connection_lost(exc) or isinstance(exc, DatabaseGoneError):
                    self._reports.database_gone()
                    log.warning("worker.database_unreachable", error=type(exc).__name__)
                else:
                    log.exception("worker.cycle_failed")
                if until_idle:
                    raise
                stop.wait(poll_interval)
                continue
            if reconcile is not None and not until_idle:
                # Between batches too, not only when idle: a backlog (a storm) must not
                # starve the status sync. Cheap when nothing is due (a monotonic check).
                reconcile.tick()
            if claimed:
                continue
            if until_idle and not self._due_soon(poll_interval * 30):
                break
            stop.wait(poll_interval)

    def _run_lanes(
        self,
        stop: threading.Event,
        reconcile: Periodic,
        until_idle: bool,
        poll_interval: float,
    ) -> WorkerStats:
        """`concurrency` lanes, each a one-lane Worker on a thread of its own; returns their sum.

        On `stop` each lane finishes the delivery in hand (its request's answer is recorded) and
        hands back the rest of its batch. Until idle, a
        lane's failure stops the others and is raised, as the single loop raises it.
        """
        lanes = [
            Worker(
                self.app,
                worker_id=f"{self.worker_id}:lane-{number}",
                batch_size=self.batch_size,
                policy=self.policy,
                limiter=self.limiter,
                clock=self.clock,
                concurrency=1,
            )
            for number in range(self.concurrency)
        ]
        for lane in lanes:
            lane._pauses = self._pauses
        lanes_stop = _LaneStop(stop)
        failures: list[BaseException] = []

        def work(lane: Worker) -> None:
            try:
                lane._loop(lanes_stop, None, until_idle=until_idle, poll_interval=poll_interval)
            except BaseException as exc:
                failures.append(exc)
                lanes_stop.set()
            finally:
                lane.close()

        threads = [
            threading.Thread(target=work, args=(lane,), name=lane.worker_id, daemon=True)
            for lane in lanes
        ]
        self._lanes = lanes
        try:
            for thread in threads:
                thread.start()
            while any(thread.is_alive() for thread in threads):
                if stop.wait(LANE_WATCH_S):
                    break
                if not until_idle:
                    reconcile.tick()
        finally:
            lanes_stop.set()
            for thread in threads:
                if thread.ident is not None:  # started
                    thread.join()
            for lane in lanes:
                self._stats.add(lane._stats)
            self._lanes = []
            self.close()
        if failures:
            raise failures[0]
        return self.stats

    def _due_soon(self, horizon_s: float) -> bool:
        due = self._deliveries.next_due_at()
        return due is not None and due <= self.clock() + timedelta(seconds=horizon_s)

    def close(self) -> None:
        for _version, provider, _content in self._providers.values():
            provider.close()
        self._providers.clear()

    # --- one delivery ---------------------------------------------------------------------------

    def _handle(self, delivery: DeliveryRecord) -> None:
        bound = log.bind(
            delivery_id=delivery.id, alert_id=delivery.alert_id, provider=delivery.provider
        )
        try:
            self._deliver(delivery, bound)
        except DatabaseGoneError:
            raise
        except LeaseLostError:
            # Another worker owns it now (our lease expired); it will finish the job.
            self.stats.lost_leases += 1
            bound.warning("delivery.lease_lost")
        except _SendFailed as failure:
            self._failed(delivery, failure.error, bound, refused=failure.refused)
        except ProviderError as error:
            self._failed(delivery, error, bound)
        except NotFoundError as exc:
            self._failed(delivery, ProviderError(ErrorKind.CONFIG, str(exc)), bound)
        except Exception as exc:
            if connection_lost(exc):
                # Nothing to hold (the request did not leave, or its outcome was never known):
                # the delivery is handed back when the database answers again.
                raise DatabaseGoneError(str(exc)) from None
            # A bug must not lose the alert: keep the delivery and retry it with backoff.
            bound.exception("delivery.internal_error")
            internal = ProviderError(
                ErrorKind.UNAVAILABLE, f"internal error while delivering: {type(exc).__name__}"
            )
            self._failed(delivery, internal, bound)

    def _deliver(self, delivery: DeliveryRecord, bound: structlog.BoundLogger) -> None:
        now = self.clock()
        operation = operation_for(delivery.operation)
        too_old = self.policy.too_old(delivery.age_origin, now)
        if too_old and operation.ages_out and delivery.reconcile_until is None:
            hours = self.policy.max_age_s / 3600
            raise ProviderError(ErrorKind.CONFIG, f"older than the maximum age ({hours:g} h)")
        opened = self._opened(delivery)
        provider = opened.provider
        alerts = self._batch.alerts_for(delivery, self._alerts, self.app.db)
        job = Job(
            delivery,
            provider,
            alerts,
            now,
            content=opened.content,
            catalog=self._catalogs.current(),
            evidence=self._evidence,
        )
        try:
            self._attempt(operation, job, provider, bound)
        except WaitFor as wait:
            # Not started: another delivery must be done first (no attempt is counted).
            waiting = Waiting(now + timedelta(seconds=wait.seconds), wait.reason)
            self._reports.report(delivery, waiting, now=now)
            self.stats.waiting += 1

    def _attempt(
        self,
        operation: Operation,
        job: Job,
        provider: TicketProvider,
        bound: structlog.BoundLogger,
    ) -> None:
        delivery, now = job.delivery, job.now
        if delivery.reconcile_until is not None:
            # An earlier request may have taken effect: never repeat it blindly.
            existing = operation.find_done(job)
            if existing is not None:
                self._record_done(delivery, existing, bound, adopted=True)
                return
            # Kinds whose effects show at once (comments, an issue's status) go on right away.
            if now < delivery.reconcile_until and operation.search_lag:
                wait = reconcile_wait(
                    delivery.last_sent_at, now, base_s=self.settings.reconcile_interval_s
                )
                deferred = Deferred(
                    available_at=min(delivery.reconcile_until, now + wait),
                    reason="waiting for the ticket system's search to show an earlier create "
                    f"(searching until {delivery.reconcile_until.isoformat(timespec='seconds')})",
                )
                self._reports.report(delivery, deferred, now=now)
                self.stats.reconciling += 1
                return

        # A request's outcome is known at most one request timeout after it leaves: until then
        # our lease must hold, and the ticket system's search lag counts from then.
        in_flight = timedelta(seconds=provider.request_timeout_s + 5)

        def possibly_sent() -> None:
            # Committed before the request leaves: a crash from here on is reconciled, not
            # blindly repeated. Also the last check that our lease still holds.
            sent_at = self.clock()
            event = PossiblySent(
                reconcile_until=sent_at + in_flight + timedelta(seconds=self.settings.search_lag_s),
                lease_until=sent_at + max(in_flight, timedelta(seconds=self.settings.lease_s)),
            )
            self._deliveries.record(delivery.id, self.worker_id, event, now=sent_at)

        try:
            done = operation.perform(job, possibly_sent)
        except ProviderError as error:
            # The answer proves this request did nothing, but an earlier unanswered one may
            # still surface: only a delivery that had no such marker may drop it.
            raise _SendFailed(error, refused=delivery.reconcile_until is None) from None
        self._record_done(delivery, done, bound, adopted=False)

    def _record_done(
        self,
        delivery: DeliveryRecord,
        done: Done,
        bound: structlog.BoundLogger,
        *,
        adopted: bool,
    ) -> None:
        kind = Adopted if adopted else Created
        event = kind(
            done.ticket,
            done.dropped_fields,
            AttemptInfo(message=done.message),
            follow_ups=done.follow_ups,
            ticket_severity=done.ticket_severity,
        )
        self._reports.report(delivery, event, now=self.clock())
        if adopted:
            self.stats.adopted += 1
        else:
            self.stats.delivered += 1
        bound.info(
            "delivery.adopted" if adopted else "delivery.delivered",
            operation=delivery.operation,
            issue_key=done.ticket.key if done.ticket is not None else None,
            outcome=done.message,
            attempts=delivery.attempts,
            dropped=[d["field"] for d in done.dropped_fields],
        )

    def _provider(self, delivery: DeliveryRecord) -> TicketProvider:
        return self._opened(delivery).provider

    def _content(self, delivery: DeliveryRecord) -> TicketContent:
        """The workspace's content settings, of the config version the provider was opened with."""
        return self._opened(delivery).content

    def _opened(self, delivery: DeliveryRecord) -> _Opened:
        key = (delivery.workspace_id, delivery.provider)
        cached = self._providers.get(key)
        # Decrypted once per config version: the claim read the current one.
        version = self._batch.config_version(*key)
        if cached is not None and version is not None and cached.version == version:
            return cached
        record = self._configs.get(delivery.workspace_id, delivery.provider, decrypt=True)
        if record is None or not record.is_enabled:
            raise ProviderError(
                ErrorKind.CONFIG,
                f"the {delivery.provider} provider is no longer configured or enabled "
                "for this workspace",
            )
        if cached is not None and cached.version == record.config_version:
            return cached
        if cached is not None:
            cached.provider.close()
        try:
            provider = open_provider(self.app, record, limiter=self.limiter)
        except ProviderConfigError as exc:
            raise ProviderError(ErrorKind.CONFIG, str(exc)) from None
        opened = _Opened(record.config_version, provider, content_from_config(record.config))
        self._providers[key] = opened
        return opened

    def _failed(
        self,
        delivery: DeliveryRecord,
        error: ProviderError,
        bound: structlog.BoundLogger,
        *,
        refused: bool = False,
    ) -> None:
        now = self.clock()
        self.stats.by_kind[error.kind.value] = self.stats.by_kind.get(error.kind.value, 0) + 1
        if error.kind is ErrorKind.RATE_LIMITED and error.status is None:
            # Our own budget had no room: nothing was sent, so this is no attempt at all.
            wait = timedelta(seconds=error.retry_after or self.settings.retry_base_s)
            try:
                self._reports.report(delivery, Throttled(now + wait, str(error)), now=now)
            except LeaseLostError:
                self.stats.lost_leases += 1
                return
            metrics.RETRY_DELAY.observe(wait.total_seconds())
            self.stats.retrying += 1
            return
        # Kinds that do not age out are bounded by their attempts alone (see Operation.ages_out).
        ages = _ages_out(delivery.operation)
        decision = self.policy.decide(
            error,
            attempts=delivery.attempts,
            created_at=delivery.age_origin if ages else now,
            now=now,
        )
        # After an unanswered request it may have taken effect: search before any new one
        # (from now: the answer is known to be lost only now). A refusal proves it did not.
        marker: tuple[Event, ...] = ()
        if error.kind is ErrorKind.AMBIGUOUS:
            marker = (Unanswered(now + timedelta(seconds=self.settings.search_lag_s)),)
        elif refused:
            marker = (Refused(),)
        try:
            if decision.action is Action.PAUSE:
                cached = self._providers.get((delivery.workspace_id, delivery.provider))
                self._pauses.note((delivery.workspace_id, delivery.provider), error)
                paused = Paused(
                    Failure(error.kind.value, str(error), error.status),
                    # A pause from a configuration an operator has since replaced is ignored.
                    config_version=cached.version if cached else None,
                )
                self._reports.report(delivery, *marker, paused, now=now)
                self.stats.paused += 1
                bound.error(
                    "delivery.provider_paused", error_kind=error.kind.value, error=str(error)
                )
                return
            # The reason is appended unless the error already says it (e.g. the maximum age).
            said = not decision.reason or decision.reason in str(error)
            message = str(error) if said else f"{error} [{decision.reason}]"
            failure = Failure(
                error.kind.value,
                message,
                error.status,
                {"field_errors": error.field_errors} if error.field_errors else None,
            )
            retry_at = decision.at if decision.action is Action.RETRY else None
            self._reports.report(delivery, *marker, failed(failure, retry_at), now=now)
        except LeaseLostError:
            self.stats.lost_leases += 1
            return
        if decision.action is Action.DEAD:
            self.stats.dead += 1
            bound.error("delivery.dead", error_kind=error.kind.value, error=message)
        else:
            self.stats.retrying += 1
            if decision.at is not None:
                metrics.RETRY_DELAY.observe(max(0.0, (decision.at - now).total_seconds()))
            bound.warning(
                "delivery.retry_scheduled",
                error_kind=error.kind.value,
                error=str(error),
                retry_at=decision.at.isoformat() if decision.at is not None else None,
            )
