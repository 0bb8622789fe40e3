"""A workspace's choices about what its tickets show: kept in each provider's config under
"content", applied wherever text leaves the product (the create, comments, labels).

Each feature owns one section (a field of `TicketContent`); a section's defaults are what a
security team expects without configuring anything.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from sentineliq.tickets.redaction import Redaction


class TicketContent(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

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
