"""A workspace's choices about what its tickets show: kept in each provider's config under
"content", applied wherever text leaves the product (the create, comments, labels).

Each feature owns one section (a field of `TicketContent`); a section's defaults are what a
security team expects without configuring anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from sentineliq.alerts.model import Alert, InfringementType, Severity
from sentineliq.tickets.redaction import Redaction

_LABEL_PREFIX = re.compile(r"[A-Za-z0-9_.:\-]*")


class AttackLabels(BaseModel):
    """ATT&CK ids as labels, so teams can filter in Jira: T1566.002 -> `attack-T1566.002`."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    # Jira labels hold no spaces; an empty prefix puts the bare ids on the ticket.
    label_prefix: str = Field(
        default="attack-",
        max_length=40,
        description="Put before each ATT&CK id to make its label (letters, digits, _ . : -).",
    )

    @field_validator("label_prefix")
    @classmethod
    def _label_safe(cls, value: str) -> str:
        if not _LABEL_PREFIX.fullmatch(value):
            raise ValueError("only letters, digits and _ . : - (a Jira label holds no spaces)")
        return value

    def label(self, attack_id: str) -> str:
        return f"{self.label_prefix}{attack_id}"


class BrandGate(BaseModel):
    """Which brand-protection detections file a ticket: those whose severity AND infringement
    type are both listed. The rest are stored and listed with the reason, not ticketed."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    severities: tuple[Severity, ...] = Field(
        default=(Severity.CRITICAL, Severity.HIGH),
        description="Severities of detections that file a ticket.",
    )
    infringements: tuple[InfringementType, ...] = Field(
        default=(
            InfringementType.COUNTERFEITING,
            InfringementType.IMPERSONATION,
            InfringementType.DOMAIN_SQUATTING,
        ),
        description="Infringement types of detections that file a ticket.",
    )

    @field_validator("severities", "infringements", mode="before")
    @classmethod
    def _listed(cls, value: object, info: ValidationInfo) -> object:
        # Stored JSON brings lists of strings; the strict model takes tuples of members.
        kind: type[StrEnum] = Severity if info.field_name == "severities" else InfringementType
        if isinstance(value, list | tuple):
            try:
                return tuple(dict.fromkeys(kind(item) for item in value))
            except ValueError:
                allowed = ", ".join(member.value for member in kind)
                raise ValueError(f"each must be one of: {allowed}") from None
        return value

    def holds(self, alert: Alert) -> str | None:
        """Why this alert files no ticket; None when it does (every alert that is not a
        brand-protection detection does)."""
        detection = alert.brand_protection
        if detection is None:
            return None
        wanted_severity = alert.severity in self.severities
        wanted_kind = detection.infringement_type in self.infringements
        if wanted_severity and wanted_kind:
            return None
        shown = ", ".join(s.value for s in self.severities) or "none"
        kinds = ", ".join(k.value for k in self.infringements) or "none"
        return (
            f"below the brand-protection gate: {alert.severity.value} "
            f"{detection.infringement_type.value} (tickets are filed for severities {shown} "
            f"and infringements {kinds})"
        )


class TicketContent(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    attack: AttackLabels = Field(default_factory=AttackLabels)

    # Defanging and redaction (docs/security-context.md#defanging-and-redaction).
    defang: bool = Field(
        default=True,
        description="Write URLs, domains, IPs and emails of indicators defanged "
        "(hxxps://evil[.]example).",
    )
    redaction: Redaction = Field(
        default_factory=Redaction,
        description="Named secret patterns masked in everything sent to the ticket system.",
    )
    # Brand protection (docs/security-context.md#brand-protection).
    brand_gate: BrandGate = Field(
        default_factory=BrandGate,
        description="Which brand-protection detections file a ticket (severity and infringement).",
    )


DEFAULT_CONTENT = TicketContent()


def content_from_config(config: object) -> TicketContent:
    """The content settings kept in a provider's stored config under "content"; the default
    if absent. A section that no longer validates (e.g. written by a newer version) falls back
    to the default rather than stopping delivery."""
    # Stored configs come back as read-only mappings (mappingproxy), not dicts.
    raw = config.get("content") if isinstance(config, Mapping) else None
    if not isinstance(raw, Mapping):
        return DEFAULT_CONTENT
    try:
        return TicketContent.model_validate(_plain(raw))
    except ValueError:
        return DEFAULT_CONTENT


def _plain(value: object) -> object:
    """Nested mappings as dicts: the strict models accept dicts only."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value
