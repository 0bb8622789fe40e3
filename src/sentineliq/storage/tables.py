"""ORM models. Only repositories touch these; upper layers get frozen records instead."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sentineliq.storage.types import PortableJSON, UTCDateTime

# Deterministic constraint names: SQLite batch migrations can only alter constraints they can name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DELIVERY_STATUSES = ("pending", "in_flight", "delivered", "failed", "dead")

ID = String(36)


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _fk(target: str) -> ForeignKey:
    return ForeignKey(target, ondelete="CASCADE")


class WorkspaceRow(Base):
    __tablename__ = "workspaces"

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TicketProviderRow(Base):
    __tablename__ = "ticket_providers"
    __table_args__ = (UniqueConstraint("workspace_id", "provider"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    workspace_id: Mapped[str] = mapped_column(ID, _fk("workspaces.id"))
    provider: Mapped[str] = mapped_column(String(32))
    is_enabled: Mapped[bool] = mapped_column(Boolean)
    # Secret fields are stored as {"$encrypted": "<fernet token>"}, never in plaintext.
    config: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    # Bumped on every config change; metadata caches key on it.
    config_version: Mapped[int] = mapped_column(Integer)


class AlertRow(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("workspace_id", "fingerprint"),
        Index(None, "workspace_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ID, _fk("workspaces.id"))
    fingerprint: Mapped[str] = mapped_column(String(200))
    module: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    category: Mapped[str | None] = mapped_column(Text)
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    threat_score: Mapped[int | None] = mapped_column(Integer)
    external_id: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    assignee_email: Mapped[str | None] = mapped_column(String(320))
    due_date: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text)
    affected_assets: Mapped[list[str]] = mapped_column(PortableJSON)
    tags: Mapped[list[str]] = mapped_column(PortableJSON)
    # The full validated alert (model_dump(mode="json")), so the ticket can be rebuilt exactly.
    payload: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AlertObservableRow(Base):
    __tablename__ = "alert_observables"
    __table_args__ = (UniqueConstraint("alert_id", "position"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ID, _fk("alerts.id"))
    position: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    value: Mapped[str] = mapped_column(Text)
    tlp: Mapped[str] = mapped_column(String(16))


class AlertAttackRefRow(Base):
    __tablename__ = "alert_attack_refs"
    __table_args__ = (UniqueConstraint("alert_id", "position"), Index(None, "attack_id"))

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ID, _fk("alerts.id"))
    position: Mapped[int] = mapped_column(Integer)
    attack_id: Mapped[str] = mapped_column(String(16))


class EvidenceRow(Base):
    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("alert_id", "position"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ID, _fk("alerts.id"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    md5: Mapped[str | None] = mapped_column(String(32))
    sha1: Mapped[str | None] = mapped_column(String(40))
    sha256: Mapped[str | None] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(Text)
    collected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    collected_by: Mapped[str | None] = mapped_column(Text)
    # The chain's head: without it, deleting the newest custody entries would go unnoticed.
    custody_length: Mapped[int] = mapped_column(Integer)
    custody_head: Mapped[str] = mapped_column(String(64))


class CustodyEntryRow(Base):
    __tablename__ = "custody_entries"
    __table_args__ = (UniqueConstraint("evidence_id", "position"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    evidence_id: Mapped[str] = mapped_column(ID, _fk("evidence.id"))
    position: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    location: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))


class DeliveryRow(Base):
    """The outbox: one row per (alert, provider) that must still reach, or reached, the provider."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "provider"),
        Index(None, "status", "available_at"),
        Index(None, "workspace_id", "status"),
        CheckConstraint(
            "status IN (" + ", ".join(f"'{s}'" for s in DELIVERY_STATUSES) + ")",
            name="status",
        ),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ID, _fk("alerts.id"))
    workspace_id: Mapped[str] = mapped_column(ID, _fk("workspaces.id"))
    provider: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str | None] = mapped_column(Text)
    error_kind: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)


class TicketLinkRow(Base):
    __tablename__ = "ticket_links"
    __table_args__ = (UniqueConstraint("alert_id", "provider"), Index(None, "delivery_id"))

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    alert_id: Mapped[str] = mapped_column(ID, _fk("alerts.id"))
    delivery_id: Mapped[str] = mapped_column(ID, _fk("deliveries.id"))
    provider: Mapped[str] = mapped_column(String(32))
    issue_id: Mapped[str] = mapped_column(String(64))
    issue_key: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "workspace_id", "at"), Index(None, "at"))

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    # No foreign key: the audit trail must outlive the workspace it describes.
    workspace_id: Mapped[str | None] = mapped_column(ID)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(PortableJSON)
