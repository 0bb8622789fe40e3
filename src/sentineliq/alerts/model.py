"""The alert as stored. Strict: unknown fields and wrong types are refused, never coerced.

What senders emit is first made to fit by alerts.normalize, which says what it changed.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from sentineliq.addresses import AnyDomainEmail


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"


class AlertStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class Module(StrEnum):
    AEGIS = "aegis"  # security alerts
    ECLIPSE = "eclipse"  # brand-protection detections


class ObservableType(StrEnum):
    IP = "ip"
    DOMAIN = "domain"
    URL = "url"
    HASH_MD5 = "hash_md5"
    HASH_SHA1 = "hash_sha1"
    HASH_SHA256 = "hash_sha256"
    EMAIL = "email"
    FILE = "file"
    REGISTRY = "registry"
    USER_AGENT = "user_agent"
    OTHER = "other"


class Tlp(StrEnum):
    """Traffic Light Protocol 2.0. TLP 1.0's "white" is accepted as its successor "clear"."""

    CLEAR = "clear"
    GREEN = "green"
    AMBER = "amber"
    AMBER_STRICT = "amber+strict"
    RED = "red"


class EvidenceType(StrEnum):
    EMAIL = "email"
    NETWORK = "network"
    FILE = "file"
    LOG = "log"
    SCREENSHOT = "screenshot"
    MEMORY_DUMP = "memory_dump"
    DISK_IMAGE = "disk_image"
    OTHER = "other"


class CustodyAction(StrEnum):
    COLLECTED = "collected"
    TRANSFERRED = "transferred"
    ANALYZED = "analyzed"
    STORED = "stored"
    RETURNED = "returned"
    ACCESSED = "accessed"
    MODIFIED = "modified"
    DELETED = "deleted"
    PRESERVED = "preserved"
    QUARANTINED = "quarantined"


def _require_timezone(value: datetime) -> datetime:
    # A naive timestamp is ambiguous by hours; guessing would silently corrupt the timeline.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("timestamp must include a timezone, e.g. 2026-11-27T08:00:00Z")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_require_timezone)]
NonEmptyText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]

_HEX = {"md5": 32, "sha1": 40, "sha256": 64}
_ATTACK_ID = re.compile(r"^(?:T\d{4}(?:\.\d{3})?|TA\d{4})$")
HASH_OBSERVABLE_LENGTH = {
    ObservableType.HASH_MD5: 32,
    ObservableType.HASH_SHA1: 40,
    ObservableType.HASH_SHA256: 64,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Observable(_Strict):
    type: ObservableType
    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8192)]
    tlp: Tlp = Tlp.AMBER

    @field_validator("tlp", mode="before")
    @classmethod
    def _tlp_v1_white_is_clear(cls, value: object) -> object:
        return "clear" if isinstance(value, str) and value.lower() == "white" else value

    @model_validator(mode="after")
    def _hash_shape(self) -> Observable:
        length = HASH_OBSERVABLE_LENGTH.get(self.type)
        if length is not None and not re.fullmatch(rf"[0-9a-fA-F]{{{length}}}", self.value):
            raise ValueError(f"value: a {self.type.value} must be {length} hexadecimal characters")
        return self


class EvidenceHashes(_Strict):
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None

    @model_validator(mode="after")
    def _hex_digests(self) -> EvidenceHashes:
        for name, length in _HEX.items():
            digest = getattr(self, name)
            if digest is not None and not re.fullmatch(rf"[0-9a-fA-F]{{{length}}}", digest):
                raise ValueError(f"{name}: must be {length} hexadecimal characters")
        return self


class CustodyEntry(_Strict):
    action: CustodyAction
    actor: ShortText
    at: AwareDatetime
    location: ShortText | None = None
    notes: Annotated[str, StringConstraints(max_length=10_000)] | None = None


class Evidence(_Strict):
    name: ShortText
    type: EvidenceType
    # Stored in a 64-bit column: a larger number is refused here, not by the database (a 500).
    size_bytes: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None
    hashes: EvidenceHashes = EvidenceHashes()
    location: ShortText | None = None
    collected_at: AwareDatetime | None = None
    collected_by: ShortText | None = None
    custody: list[CustodyEntry] = Field(default_factory=list, max_length=1000)


class DetectionType(StrEnum):
    """How the brand-protection service found the infringement."""

    CONTENT = "content"
    DOMAIN = "domain"
    VISUAL = "visual"
    OCR = "ocr"


class InfringementType(StrEnum):
    COUNTERFEITING = "counterfeiting"
    IMPERSONATION = "impersonation"
    DOMAIN_SQUATTING = "domain_squatting"
    PHISHING = "phishing"
    TRADEMARK_MISUSE = "trademark_misuse"
    COPYRIGHT = "copyright"
    FAKE_APP = "fake_app"
    SOCIAL_MEDIA = "social_media"
    OTHER = "other"


def _ip_address(value: str) -> str:
    value = value.strip()
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ValueError(f"{value!r} is not an IPv4 or IPv6 address") from None


class BrandProtection(_Strict):
    """What an Eclipse brand-protection detection reports. `brand` and `infringement_type` are
    required: they lead the ticket and decide whether one is filed (see TicketContent.brand_gate).
    `url`, `domain` and `ip` are the suspicious site's: plain text, shown defanged and never
    linked; `screenshot_url` is the service's own capture, linked."""

    brand: ShortText
    infringement_type: InfringementType
    detection_type: DetectionType | None = None
    url: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=8192)]
        | None
    ) = None
    domain: ShortText | None = None
    ip: Annotated[str, AfterValidator(_ip_address)] | None = None
    screenshot_url: AnyHttpUrl | None = None
    confidence: Annotated[float, Field(ge=0, le=1)] | None = None  # 0..1
    recommended_action: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
        | None
    ) = None


def _attack_id(value: str) -> str:
    value = value.strip().upper()
    if not _ATTACK_ID.match(value):
        raise ValueError(
            f"{value!r} is not a MITRE ATT&CK id (expected T1234, T1234.001 or TA0001)"
        )
    return value


AttackId = Annotated[str, AfterValidator(_attack_id)]


class Alert(_Strict):
    """One security alert or brand-protection detection, as a source system sends it."""

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    description: Annotated[str, StringConstraints(max_length=200_000)] = ""
    severity: Severity
    status: AlertStatus = AlertStatus.NEW
    source: ShortText
    category: ShortText | None = None
    detected_at: AwareDatetime
    threat_score: Annotated[int, Field(ge=0, le=100)] | None = None
    affected_assets: list[ShortText] = Field(default_factory=list, max_length=1000)
    tags: list[ShortText] = Field(default_factory=list, max_length=100)
    external_id: ShortText | None = None
    fingerprint: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None
    link: AnyHttpUrl | None = None
    assignee_email: AnyDomainEmail | None = None
    due_date: date | None = None
    module: Module = Module.AEGIS
    observables: list[Observable] = Field(default_factory=list, max_length=1000)
    mitre: list[AttackId] = Field(default_factory=list, max_length=100)
    evidence: list[Evidence] = Field(default_factory=list, max_length=100)
    # Set for brand-protection detections (module eclipse): their own layout and ticket gate.
    brand_protection: BrandProtection | None = None
