"""A chunk of new alerts as plain column values, one multi-row INSERT per table.

The ORM's unit of work cost about 4,400 Python calls per alert (identity map, per-object
events, topological flush); the rows of new alerts need none of it: they are written once and
never read back in the same transaction. Values are built here and inserted with SQLAlchemy
Core (`executemany`, which SQLAlchemy turns into multi-row `INSERT ... VALUES` batches on
PostgreSQL), so the statements per chunk stay the same however many alerts it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from sentineliq.alerts.model import Alert
from sentineliq.alerts.normalize import IngestWarning
from sentineliq.storage.audit import audit_values
from sentineliq.storage.custody import chain_values, genesis_hash
from sentineliq.storage.deliveries.records import CREATE_ISSUE, idempotency_key_for
from sentineliq.storage.tables import (
    AlertAttackRefRow,
    AlertObservableRow,
    AuditRow,
    CustodyEntryRow,
    DeliveryRow,
    EvidenceRow,
    new_id,
)

Values = dict[str, Any]


def alert_values(
    alert_id: str,
    workspace_id: str,
    fingerprint: str,
    alert: Alert,
    now: datetime,
    warnings: Sequence[IngestWarning],
    source_payload: dict[str, Any] | None = None,
    not_ticketed: dict[str, str] | None = None,
) -> Values:
    payload = alert.model_dump(mode="json")
    return {
        "id": alert_id,
        "workspace_id": workspace_id,
        "fingerprint": fingerprint,
        "module": payload["module"],
        "title": alert.title,
        "severity": payload["severity"],
        "status": payload["status"],
        "source": alert.source,
        "category": alert.category,
        "detected_at": alert.detected_at,
        "threat_score": alert.threat_score,
        "external_id": alert.external_id,
        "link": payload["link"],
        "assignee_email": alert.assignee_email,
        "due_date": alert.due_date,
        "description": alert.description,
        "affected_assets": payload["affected_assets"],
        "tags": payload["tags"],
        "payload": payload,
        "created_at": now,
        "ingest_warnings": [warning.to_json() for warning in warnings],
        "source_payload": source_payload,
        "not_ticketed": not_ticketed or None,
    }


@dataclass
class NewRows:
    """The rows of one chunk's new alerts, by table, in the order their foreign keys need."""

    alerts: list[Values] = field(default_factory=list)
    observables: list[Values] = field(default_factory=list)
    attack_refs: list[Values] = field(default_factory=list)
    evidence: list[Values] = field(default_factory=list)
    custody: list[Values] = field(default_factory=list)
    deliveries: list[Values] = field(default_factory=list)
    audit: list[Values] = field(default_factory=list)

    def add_children(self, alert_id: str, alert: Alert) -> None:
        """Observables, ATT&CK references, evidence and its hash-chained custody."""
        for position, observable in enumerate(alert.observables):
            self.observables.append(
                {
                    "id": new_id(),
                    "alert_id": alert_id,
                    "position": position,
                    "type": observable.type.value,
                    "value": observable.value,
                    "tlp": observable.tlp.value,
                }
            )
        for position, attack_id in enumerate(alert.mitre):
            self.attack_refs.append(
                {"id": new_id(), "alert_id": alert_id, "position": position, "attack_id": attack_id}
            )
        for position, evidence in enumerate(alert.evidence):
            evidence_id = new_id()
            hashes = evidence.hashes
            genesis = genesis_hash(evidence.name, hashes.md5, hashes.sha1, hashes.sha256)
            entries, head = chain_values(evidence_id, genesis, evidence.custody)
            self.evidence.append(
                {
                    "id": evidence_id,
                    "alert_id": alert_id,
                    "position": position,
                    "name": evidence.name,
                    "type": evidence.type.value,
                    "size_bytes": evidence.size_bytes,
                    "md5": hashes.md5,
                    "sha1": hashes.sha1,
                    "sha256": hashes.sha256,
                    "location": evidence.location,
                    "collected_at": evidence.collected_at,
                    "collected_by": evidence.collected_by,
                    "custody_length": len(entries),
                    "custody_head": head,
                }
            )
            self.custody.extend(entries)

    def add_delivery(
        self, alert_id: str, workspace_id: str, provider: str, now: datetime, *, status: str
    ) -> None:
        self.deliveries.append(delivery_values(alert_id, workspace_id, provider, now, status))

    def add_audit(self, action: str, **fields: Any) -> None:
        self.audit.append(audit_values(action, **fields))

    def write(self, session: Session) -> None:
        """One INSERT per table that has rows (parents before children)."""
        tables: tuple[tuple[Any, list[Values]], ...] = (
            (AlertObservableRow, self.observables),
            (AlertAttackRefRow, self.attack_refs),
            (EvidenceRow, self.evidence),
            (CustodyEntryRow, self.custody),
            (DeliveryRow, self.deliveries),
            (AuditRow, self.audit),
        )
        connection = session.connection()
        for model, rows in tables:
            if rows:
                table: Table = model.__table__
                connection.execute(insert(table), rows)


def delivery_values(
    alert_id: str, workspace_id: str, provider: str, now: datetime, status: str
) -> Values:
    """A ticket's create, queued: the columns `deliveries.new_delivery` sets."""
    delivery_id = new_id()
    return {
        "id": delivery_id,
        "alert_id": alert_id,
        "workspace_id": workspace_id,
        "provider": provider,
        "status": status,
        "attempts": 0,
        "available_at": now,
        "lease_until": None,
        "claimed_by": None,
        "last_error": None,
        "error_kind": None,
        "created_at": now,
        "updated_at": now,
        "delivered_at": None,
        "idempotency_key": idempotency_key_for(delivery_id),
        "dropped_fields": [],
        "paused_seconds": 0.0,
        "operation": CREATE_ISSUE,
        "sequence": 0,
        "payload": {},
    }
