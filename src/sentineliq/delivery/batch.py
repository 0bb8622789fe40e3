"""A claimed batch with what working it needs, read in the claim's own transaction.

Per delivery the worker then needs the database only twice: the "possibly sent" marker (with the
rate budget's token) and the outcome. The batch carries the alerts its creates file and the
config version of each provider it touches, so a decrypted config in hand is reused until the
version changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sentineliq.storage.alerts import AlertRepository, StoredAlert
from sentineliq.storage.db import Database
from sentineliq.storage.deliveries import CREATE_ISSUE, DeliveryRecord, DeliveryRepository
from sentineliq.storage.providers import ProviderRepository


class ClaimedAlert(AlertRepository):
    """The alert repository, answering `get` for one alert from what the claim read."""

    def __init__(self, db: Database, stored: StoredAlert) -> None:
        super().__init__(db)
        self._stored = stored

    def get(self, alert_id: str) -> StoredAlert:
        return self._stored if alert_id == self._stored.id else super().get(alert_id)


@dataclass(frozen=True)
class ClaimedBatch:
    deliveries: list[DeliveryRecord] = field(default_factory=list)
    # The alerts of the batch's creates, by alert id.
    alerts: Mapping[str, StoredAlert] = field(default_factory=dict)
    # (workspace, provider) -> (config_version, is_enabled), as of the claim.
    versions: Mapping[tuple[str, str], tuple[int, bool]] = field(default_factory=dict)

    def alerts_for(
        self, delivery: DeliveryRecord, repository: AlertRepository, db: Database
    ) -> AlertRepository:
        """What a create reads its alert from: the claim's copy. Other kinds read afresh (a
        comment must see the ticket links as they are now, not as they were at the claim)."""
        stored = self.alerts.get(delivery.alert_id)
        if delivery.operation != CREATE_ISSUE or stored is None:
            return repository
        return ClaimedAlert(db, stored)

    def config_version(self, workspace_id: str, provider: str) -> int | None:
        """The provider's config version as of the claim, if it was enabled then."""
        version, enabled = self.versions.get((workspace_id, provider), (None, False))
        return version if enabled else None


def claim_batch(
    db: Database,
    deliveries: DeliveryRepository,
    configs: ProviderRepository,
    worker_id: str,
    *,
    limit: int,
    lease_seconds: float,
    now: datetime,
) -> ClaimedBatch:
    """Claim up to `limit` due deliveries and read what they need, in one transaction."""
    with db.transaction():
        claimed = deliveries.claim_due(worker_id, limit=limit, lease_seconds=lease_seconds, now=now)
        if not claimed:
            return ClaimedBatch()
        creates = [d.alert_id for d in claimed if d.operation == CREATE_ISSUE]
        # An alert that no longer reads must not undo the claim (that would block the outbox
        # behind it): it is left out here, and its delivery reads it again and fails alone.
        alerts, _unreadable = AlertRepository(db).get_readable(creates)
        versions = configs.versions({(d.workspace_id, d.provider) for d in claimed})
    return ClaimedBatch(claimed, alerts, versions)
