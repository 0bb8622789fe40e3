"""An existing ticket's lifecycle state, as the ticket system shows it (read by providers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class StatusCategory(StrEnum):
    """Jira's three status categories; workflows name statuses freely (and localize them), the
    category is what tells open from done."""

    NEW = "new"
    IN_PROGRESS = "indeterminate"
    DONE = "done"


@dataclass(frozen=True)
class IssueState:
    """What the lifecycle needs to know about an existing ticket, read from the ticket system."""

    id: str
    key: str
    status: str  # the status's name, as the site shows it (possibly localized)
    status_category: StatusCategory
    resolution: str | None  # e.g. "Done", "Won't Fix"; None while unresolved
    resolved_at: datetime | None
    priority: str | None  # the priority's name
    updated_at: datetime | None

    @property
    def done(self) -> bool:
        return self.status_category is StatusCategory.DONE
