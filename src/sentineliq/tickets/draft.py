"""TicketDraft: everything a provider needs to file one ticket for one alert."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sentineliq.document.model import Document


class Priority(StrEnum):
    """Neutral priority; each provider maps it onto its own scheme (Jira: Low..Highest)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    URGENT = "urgent"


# Scalar values an operator may route into custom fields (see JiraConfig.custom_fields).
AttributeValue = str | int | float | list[str] | None


@dataclass(frozen=True)
class TicketDraft:
    summary: str  # full alert title; providers enforce their own length/line rules
    document: Document
    priority: Priority
    labels: tuple[str, ...] = ()  # raw labels; providers sanitize them
    assignee_email: str | None = None
    due_date: date | None = None
    link: str | None = None  # absolute URL back to the alert
    # Named alert attributes (severity, source, threat_score, mitre, ...) for custom-field mapping.
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
