"""The outbox worker: claims due deliveries, files their tickets, records the outcome."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from sentineliq.delivery.retry import RetryPolicy
from sentineliq.providers.base import ErrorKind, ProviderError, TicketProvider
from sentineliq.services.context import AppContext
from sentineliq.services.providers import ProviderConfigError, open_provider
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.deliveries import DeliveryRecord, DeliveryRepository
from sentineliq.storage.errors import LeaseLostError, NotFoundError
from sentineliq.storage.providers import ProviderRepository
from sentineliq.tickets.build import build_draft

log = structlog.get_logger("sentineliq.worker")


@dataclass
class WorkerStats:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    lost_leases: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def processed(self) -> int:
        return self.delivered + self.retrying + self.dead + self.lost_leases


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        app: AppContext,
        *,
        worker_id: str | None = None,
        batch_size: int = 10,
        lease_seconds: float = 300.0,
        policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.app = app
        self.worker_id = worker_id or default_worker_id()
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self.stats = WorkerStats()
        self._deliveries = DeliveryRepository(app.db)
        self._alerts = AlertRepository(app.db)
        self._configs = ProviderRepository(app.db, app.secrets)
        # One provider per (workspace, provider, config version): a config change opens a new one.
        self._providers: dict[tuple[str, str], tuple[int, TicketProvider]] = {}

    def run_once(self) -> int:
        """Claim one batch of due deliveries and work through it; returns how many were claimed."""
        claimed = self._deliveries.claim_due(
            self.worker_id,
            limit=self.batch_size,
            lease_seconds=self.lease_seconds,
            now=self.clock(),
        )
        for delivery in claimed:
            self._deliver(delivery)
        return len(claimed)

    def run(
        self,
        *,
        until_idle: bool = False,
        stop: threading.Event | None = None,
        poll_interval: float = 1.0,
        on_batch: Callable[[WorkerStats], None] | None = None,
    ) -> WorkerStats:
        """Work until `stop` is set, or with `until_idle` until nothing is due right now."""
        stop = stop or threading.Event()
        try:
            while not stop.is_set():
                claimed = self.run_once()
                if on_batch is not None and claimed:
                    on_batch(self.stats)
                if claimed:
                    continue
                if until_idle:
                    break
                stop.wait(poll_interval)
        finally:
            self.close()
        return self.stats

    def close(self) -> None:
        for _version, provider in self._providers.values():
            provider.close()
        self._providers.clear()

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
            provider = open_provider(self.app, record)
        except ProviderConfigError as exc:
            raise ProviderError(ErrorKind.CONFIG, str(exc)) from None
        self._providers[key] = (record.config_version, provider)
        return provider

    def _deliver(self, delivery: DeliveryRecord) -> None:
        bound = log.bind(
            delivery_id=delivery.id, alert_id=delivery.alert_id, provider=delivery.provider
        )
        try:
            stored = self._alerts.get(delivery.alert_id)
            draft = build_draft(stored.alert, workspace_name=stored.workspace_name)
            ticket = self._provider(delivery).create_ticket(
                draft, idempotency_key=delivery.idempotency_key
            )
        except ProviderError as error:
            self._failed(delivery, error, bound)
            return
        except NotFoundError as exc:
            self._failed(delivery, ProviderError(ErrorKind.CONFIG, str(exc)), bound)
            return
        except Exception as exc:
            # A bug must not lose the alert: keep the delivery and retry it with backoff.
            bound.exception("delivery.internal_error")
            internal = ProviderError(
                ErrorKind.UNAVAILABLE, f"internal error while delivering: {type(exc).__name__}"
            )
            self._failed(delivery, internal, bound)
            return
        try:
            self._deliveries.mark_delivered(
                delivery.id,
                self.worker_id,
                (ticket.id, ticket.key, ticket.url),
                dropped_fields=ticket.dropped_fields,
            )
        except LeaseLostError:
            self.stats.lost_leases += 1
            bound.warning("delivery.lease_lost", issue_key=ticket.key)
            return
        self.stats.delivered += 1
        bound.info("delivery.delivered", issue_key=ticket.key, attempts=delivery.attempts)

    def _failed(
        self, delivery: DeliveryRecord, error: ProviderError, bound: structlog.BoundLogger
    ) -> None:
        retry_at = self.policy.next_attempt_at(error, delivery.attempts, self.clock())
        self.stats.by_kind[error.kind.value] = self.stats.by_kind.get(error.kind.value, 0) + 1
        try:
            self._deliveries.mark_failed(
                delivery.id,
                self.worker_id,
                error_kind=error.kind.value,
                message=str(error),
                retry_at=retry_at,
            )
        except LeaseLostError:
            self.stats.lost_leases += 1
            return
        if retry_at is None:
            self.stats.dead += 1
            bound.error("delivery.dead", error_kind=error.kind.value, error=str(error))
        else:
            self.stats.retrying += 1
            bound.warning(
                "delivery.retry_scheduled",
                error_kind=error.kind.value,
                error=str(error),
                retry_at=retry_at.isoformat(),
            )
