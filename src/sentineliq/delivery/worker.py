"""The outbox worker: claims due deliveries, files their tickets exactly once, records outcomes.

Exactly once, across crashes and lost answers: before a create is sent the delivery is marked
"possibly sent" (reconcile_until) in its own committed transaction. Whoever handles it next (this
worker after an unanswered request, or another after a crash) first searches the ticket system
for the delivery's idempotency key and adopts what it finds; only when the search has stayed
empty past the ticket system's search lag does it create again.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog

from sentineliq import metrics
from sentineliq.delivery.retry import Action, RetryPolicy
from sentineliq.providers.base import CreatedTicket, ErrorKind, ProviderError, TicketProvider
from sentineliq.ratelimit import SiteRateLimiter
from sentineliq.services.context import AppContext
from sentineliq.services.providers import ProviderConfigError, open_provider
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.deliveries import DeliveryRecord, DeliveryRepository
from sentineliq.storage.errors import LeaseLostError, NotFoundError
from sentineliq.storage.providers import ProviderRepository
from sentineliq.storage.ratebudget import DatabaseRateLimiter
from sentineliq.tickets.build import build_draft

log = structlog.get_logger("sentineliq.worker")


@dataclass
class WorkerStats:
    delivered: int = 0
    adopted: int = 0  # found already created by an earlier, unanswered attempt
    retrying: int = 0
    reconciling: int = 0
    dead: int = 0
    paused: int = 0
    released: int = 0
    lost_leases: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


class _CreateFailed(Exception):
    """A create failed; unless ambiguous, Jira's answer proves this request created nothing."""

    def __init__(self, error: ProviderError, *, clears_marker: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.clears_marker = clears_marker


# Searches while waiting out the search lag start `reconcile_interval_s` apart and double up to
# this: a lag of minutes costs a dozen searches, not a hundred.
RECONCILE_INTERVAL_CAP_S = 60.0


def reconcile_wait(
    sent_at: datetime | None,
    now: datetime,
    *,
    base_s: float,
    cap_s: float = RECONCILE_INTERVAL_CAP_S,
    rng: random.Random | None = None,
) -> timedelta:
    """The wait before the next search for an unanswered create sent at `sent_at`.

    As long as the search has already been empty (so the intervals double), between `base_s` and
    `cap_s`, with +-25 % jitter so workers do not search in lockstep. Derived from the stored
    send time alone, so a restarted worker carries on where the crashed one stopped.
    """
    waited = (now - sent_at).total_seconds() if sent_at is not None else 0.0
    ceiling = max(base_s, cap_s)
    wait = min(ceiling, max(base_s, waited)) * (rng or random).uniform(0.75, 1.25)
    return timedelta(seconds=wait)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


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
    ) -> None:
        self.app = app
        self.settings = app.settings.delivery
        self.worker_id = worker_id or default_worker_id()
        self.batch_size = batch_size
        self.policy = policy or RetryPolicy.from_settings(self.settings)
        self.limiter = limiter or DatabaseRateLimiter(
            app.db,
            rate=self.settings.rate_per_s,
            backoff_base_s=self.settings.retry_base_s,
            backoff_cap_s=self.settings.retry_cap_s,
        )
        self.clock = clock
        self.stats = WorkerStats()
        self._deliveries = DeliveryRepository(app.db)
        self._alerts = AlertRepository(app.db)
        self._configs = ProviderRepository(app.db, app.secrets)
        # One provider per (workspace, provider) and config version: a new config opens a new one.
        self._providers: dict[tuple[str, str], tuple[int, TicketProvider]] = {}
        # Providers paused during the current batch, with the error that paused them.
        self._paused_in_batch: dict[tuple[str, str], ProviderError] = {}

    # --- loop -----------------------------------------------------------------------------------

    def run_once(self, stop: threading.Event | None = None) -> int:
        """Claim one batch and work through it; returns how many were claimed.

        When `stop` is set mid-batch, the deliveries not yet started are released untried.
        """
        claimed = self._deliveries.claim_due(
            self.worker_id,
            limit=self.batch_size,
            lease_seconds=self.settings.lease_s,
            now=self.clock(),
        )
        self._paused_in_batch.clear()
        for index, delivery in enumerate(claimed):
            if stop is not None and stop.is_set():
                for unstarted in claimed[index:]:
                    self._release(unstarted)
                break
            pausing = self._paused_in_batch.get((delivery.workspace_id, delivery.provider))
            if pausing is not None:
                # Its provider was paused a moment ago (e.g. a CAPTCHA lock, which every further
                # request prolongs): it waits for the resume without a request of its own.
                self._failed(delivery, pausing, log.bind(delivery_id=delivery.id))
                continue
            self._handle(delivery)
        return len(claimed)

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
        """
        stop = stop or threading.Event()
        try:
            while not stop.is_set():
                try:
                    claimed = self.run_once(stop)
                except Exception:
                    # The database may be briefly unreachable; a worker that runs forever
                    # must outlive that. Nothing is lost: leases expire and rows are reclaimed.
                    log.exception("worker.cycle_failed")
                    if until_idle:
                        raise
                    stop.wait(poll_interval)
                    continue
                if claimed:
                    continue
                if until_idle and not self._due_soon(poll_interval * 30):
                    break
                stop.wait(poll_interval)
        finally:
            self.close()
        return self.stats

    def _due_soon(self, horizon_s: float) -> bool:
        due = self._deliveries.next_due_at()
        return due is not None and due <= self.clock() + timedelta(seconds=horizon_s)

    def close(self) -> None:
        for _version, provider in self._providers.values():
            provider.close()
        self._providers.clear()

    # --- one delivery ---------------------------------------------------------------------------

    def _handle(self, delivery: DeliveryRecord) -> None:
        bound = log.bind(
            delivery_id=delivery.id, alert_id=delivery.alert_id, provider=delivery.provider
        )
        try:
            self._deliver(delivery, bound)
        except LeaseLostError:
            # Another worker owns it now (our lease expired); it will finish the job.
            self.stats.lost_leases += 1
            bound.warning("delivery.lease_lost")
        except _CreateFailed as failed:
            self._failed(delivery, failed.error, bound, clears_marker=failed.clears_marker)
        except ProviderError as error:
            self._failed(delivery, error, bound)
        except NotFoundError as exc:
            self._failed(delivery, ProviderError(ErrorKind.CONFIG, str(exc)), bound)
        except Exception as exc:
            # A bug must not lose the alert: keep the delivery and retry it with backoff.
            bound.exception("delivery.internal_error")
            internal = ProviderError(
                ErrorKind.UNAVAILABLE, f"internal error while delivering: {type(exc).__name__}"
            )
            self._failed(delivery, internal, bound)

    def _deliver(self, delivery: DeliveryRecord, bound: structlog.BoundLogger) -> None:
        now = self.clock()
        if self.policy.too_old(delivery.age_origin, now) and delivery.reconcile_until is None:
            hours = self.policy.max_age_s / 3600
            raise ProviderError(ErrorKind.CONFIG, f"older than the maximum age ({hours:g} h)")
        provider = self._provider(delivery)
        if delivery.reconcile_until is not None:
            # An earlier create may have reached the ticket system: never create blindly.
            existing = provider.find_existing(delivery.idempotency_key)
            if existing is not None:
                self._record_ticket(delivery, existing, bound, adopted=True)
                return
            if now < delivery.reconcile_until:
                wait = reconcile_wait(
                    delivery.last_sent_at, now, base_s=self.settings.reconcile_interval_s
                )
                self._deliveries.defer(
                    delivery.id,
                    self.worker_id,
                    available_at=min(delivery.reconcile_until, now + wait),
                    reason="waiting for the ticket system's search to show an earlier create "
                    f"(searching until {delivery.reconcile_until.isoformat(timespec='seconds')})",
                    now=now,
                )
                self.stats.reconciling += 1
                return
        stored = self._alerts.get(delivery.alert_id)
        draft = build_draft(stored.alert, workspace_name=stored.workspace_name)

        # A create's outcome is known at most one request timeout after it leaves: until then
        # our lease must hold, and Jira's search lag counts from then.
        in_flight = timedelta(seconds=provider.request_timeout_s + 5)

        def possibly_sent() -> None:
            # Committed before the request leaves: a crash from here on is reconciled, not
            # blindly repeated. Also the last check that our lease still holds.
            sent_at = self.clock()
            self._deliveries.mark_sending(
                delivery.id,
                self.worker_id,
                reconcile_until=sent_at + in_flight + timedelta(seconds=self.settings.search_lag_s),
                lease_until=sent_at + max(in_flight, timedelta(seconds=self.settings.lease_s)),
                now=sent_at,
            )

        try:
            ticket = provider.create_ticket(
                draft, idempotency_key=delivery.idempotency_key, before_send=possibly_sent
            )
        except ProviderError as error:
            # Jira's answer proves this request created nothing, but an earlier unanswered one
            # may still surface: only a delivery that had no such marker may drop it.
            raise _CreateFailed(error, clears_marker=delivery.reconcile_until is None) from None
        self._record_ticket(delivery, ticket, bound, adopted=False)

    def _record_ticket(
        self,
        delivery: DeliveryRecord,
        ticket: CreatedTicket,
        bound: structlog.BoundLogger,
        *,
        adopted: bool,
    ) -> None:
        reasons = getattr(ticket, "drop_reasons", ())
        dropped = [{"field": d.field, "reason": d.reason} for d in reasons] or [
            {"field": name, "reason": ""} for name in ticket.dropped_fields
        ]
        self._deliveries.mark_delivered(
            delivery.id,
            self.worker_id,
            (ticket.id, ticket.key, ticket.url),
            dropped_fields=dropped,
            adopted=adopted,
            now=self.clock(),
        )
        if adopted:
            self.stats.adopted += 1
        else:
            self.stats.delivered += 1
        bound.info(
            "delivery.adopted" if adopted else "delivery.delivered",
            issue_key=ticket.key,
            attempts=delivery.attempts,
            dropped=[d["field"] for d in dropped],
        )

    def _provider(self, delivery: DeliveryRecord) -> TicketProvider:
        record = self._configs.get(delivery.workspace_id, delivery.provider, decrypt=True)
        if record is None or not record.is_enabled:
            raise ProviderError(
                ErrorKind.CONFIG,
                f"the {delivery.provider} provider is no longer configured or enabled "
                "for this workspace",
            )
        key = (delivery.workspace_id, delivery.provider)
        cached = self._providers.get(key)
        if cached is not None and cached[0] == record.config_version:
            return cached[1]
        if cached is not None:
            cached[1].close()
        try:
            provider = open_provider(self.app, record, limiter=self.limiter)
        except ProviderConfigError as exc:
            raise ProviderError(ErrorKind.CONFIG, str(exc)) from None
        self._providers[key] = (record.config_version, provider)
        return provider

    def _release(self, delivery: DeliveryRecord) -> None:
        try:
            self._deliveries.release(
                delivery.id, self.worker_id, reason="worker shutting down", now=self.clock()
            )
            self.stats.released += 1
        except LeaseLostError:
            self.stats.lost_leases += 1

    def _failed(
        self,
        delivery: DeliveryRecord,
        error: ProviderError,
        bound: structlog.BoundLogger,
        *,
        clears_marker: bool = False,
    ) -> None:
        now = self.clock()
        self.stats.by_kind[error.kind.value] = self.stats.by_kind.get(error.kind.value, 0) + 1
        if error.kind is ErrorKind.RATE_LIMITED and error.status is None:
            # Our own budget had no room: nothing was sent, so this is no attempt at all.
            wait = timedelta(seconds=error.retry_after or self.settings.retry_base_s)
            try:
                self._deliveries.defer(
                    delivery.id,
                    self.worker_id,
                    available_at=now + wait,
                    reason=str(error),
                    outcome="retry",
                    now=now,
                )
            except LeaseLostError:
                self.stats.lost_leases += 1
                return
            metrics.RETRY_DELAY.observe(wait.total_seconds())
            self.stats.retrying += 1
            return
        decision = self.policy.decide(
            error, attempts=delivery.attempts, created_at=delivery.age_origin, now=now
        )
        # After an unanswered create the issue may exist: keep searching before any new create.
        reconcile_until = (
            now + timedelta(seconds=self.settings.search_lag_s)
            if error.kind is ErrorKind.AMBIGUOUS
            else None
        )  # from now: the answer is known to be lost only now
        try:
            if decision.action is Action.PAUSE:
                cached = self._providers.get((delivery.workspace_id, delivery.provider))
                self._paused_in_batch[(delivery.workspace_id, delivery.provider)] = error
                self._deliveries.release_for_pause(
                    delivery.id,
                    self.worker_id,
                    reason=str(error),
                    error_kind=error.kind.value,
                    http_status=error.status,
                    # A pause from a configuration an operator has since replaced is ignored.
                    config_version=cached[0] if cached else None,
                    # A refusal (401, CAPTCHA, required field) proves this request created
                    # nothing; an earlier unanswered one keeps its marker.
                    not_created=clears_marker,
                    now=now,
                )
                self.stats.paused += 1
                bound.error(
                    "delivery.provider_paused", error_kind=error.kind.value, error=str(error)
                )
                return
            # The reason is appended unless the error already says it (e.g. the maximum age).
            said = not decision.reason or decision.reason in str(error)
            message = str(error) if said else f"{error} [{decision.reason}]"
            self._deliveries.mark_failed(
                delivery.id,
                self.worker_id,
                error_kind=error.kind.value,
                message=message,
                retry_at=decision.at if decision.action is Action.RETRY else None,
                http_status=error.status,
                details={"field_errors": error.field_errors} if error.field_errors else None,
                reconcile_until=reconcile_until,
                not_created=clears_marker and error.kind is not ErrorKind.AMBIGUOUS,
                now=now,
            )
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
                retry_at=decision.at.isoformat() if decision.at else None,
            )
