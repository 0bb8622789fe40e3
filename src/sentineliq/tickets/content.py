"""A workspace's choices about what its tickets show: kept in each provider's config under
"content", applied wherever text leaves the product (the create, comments, labels).

Each feature owns one section (a field of `TicketContent`); a section's defaults are what a
security team expects without configuring anything.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class AttackLabels(BaseModel):
    """ATT&CK ids as labels, so teams can filter in Jira: T1566.002 -> `attack-T1566.002`."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    # Jira labels hold no spaces; an empty prefix puts the bare ids on the ticket.
    label_prefix: str = Field(
        default="attack-",
        max_length=40,
        pattern=r"^[A-Za-z0-9_.:\-]*$",
        description="Put before each ATT&CK id to make its label (letters, digits, _ . : -).",
    )

    def label(self, attack_id: str) -> str:
        return f"{self.label_prefix}{attack_id}"


class TicketContent(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    attack: AttackLabels = Field(default_factory=AttackLabels)


DEFAULT_CONTENT = TicketContent()


def content_from_config(config: object) -> TicketContent:
    """The content settings kept in a provider's stored config under "content"; the default
    if absent. A section that no longer validates (e.g. written by a newer version) falls back
    to the default rather than stopping delivery."""
    raw = config.get("content") if isinstance(config, dict) else None
    if not isinstance(raw, dict):
        return DEFAULT_CONTENT
    try:
        return TicketContent.model_validate(raw)
    except ValueError:
        return DEFAULT_CONTENT
