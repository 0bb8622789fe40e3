"""Evidence files as the rest of the product sees them: an uploaded file of an alert, its
hashes (computed by SentinelIQ on upload), and how it reached each ticket. Plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Attachment:
    """How one file reached the alert's ticket at one provider: `status` is the delivery's
    (pending, in_flight, delivered, failed, dead, ...), `outcome` what it did or why it failed
    (e.g. "attached to SEC-1", "linked on SEC-1: larger than ...")."""

    provider: str
    delivery_id: str
    status: str
    outcome: str | None


@dataclass(frozen=True)
class EvidenceFile:
    id: str
    workspace_id: str
    alert_id: str
    evidence_id: str | None  # its custody chain
    file_name: str
    content_type: str
    size_bytes: int
    md5: str
    sha1: str
    sha256: str
    storage_key: str
    created_at: datetime
    uploaded_by: str
    deleted_at: datetime | None = None
    attachments: tuple[Attachment, ...] = ()
