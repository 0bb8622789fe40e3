"""A provider's lifecycle settings: coalescing, reopening, suppression, status map, storm guard.

Names (transitions, resolutions) are the site's own and may be localized, so each is a list
tried in order; status categories, not names, tell open from done.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
Names = Annotated[list[Name], Field(max_length=50)]


class LifecyclePolicy(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    comment_window_s: int = Field(
        default=900,
        ge=0,
        le=86_400,
        description="Repeats of an alert are folded into one ticket comment per window (seconds). "
        "The first repeat is commented at once.",
    )
    reopen_window_days: float = Field(
        default=7.0,
        ge=0,
        le=3650,
        description="A repeat within this many days of the ticket's resolution reopens it; "
        "later, a new ticket linked to the old one is filed.",
    )
    reopen_transitions: Names = Field(
        default_factory=lambda: ["Reopen", "Reopen Issue", "Reopened", "To Do", "Open"],
        description="Transition names tried in order to reopen a done ticket.",
    )
    suppress_resolutions: Names = Field(
        default_factory=lambda: ["Won't Fix", "Won't Do", "Declined", "Duplicate"],
        description="Resolutions that mean 'do not bring this back': repeats are only recorded.",
    )
    resolve_transitions: Names = Field(
        default_factory=lambda: ["Done", "Resolve Issue", "Resolve", "Close Issue", "Close"],
        description="Transition names tried in order when an alert is resolved in SentinelIQ.",
    )
    resolve_resolution: Name | None = Field(
        default="Done", description="The resolution set when an alert is resolved."
    )
    dismiss_transitions: Names = Field(
        default_factory=lambda: ["Won't Do", "Done", "Resolve Issue", "Close Issue", "Close"],
        description="Transition names tried in order when an alert is dismissed in SentinelIQ.",
    )
    dismiss_resolution: Name | None = Field(
        default="Won't Do", description="The resolution set when an alert is dismissed."
    )
    raise_priority: bool = Field(
        default=True,
        description="Raise the ticket's priority when a repeat comes with a higher severity "
        "(never lowered automatically).",
    )
    storm_threshold: int = Field(
        default=50,
        ge=1,
        le=100_000,
        description="More new tickets than this within the storm window are held, not filed.",
    )
    storm_window_s: int = Field(default=600, ge=1, le=86_400, description="The storm window.")

    def suppresses(self, resolution: str | None) -> bool:
        if resolution is None:
            return False
        wanted = resolution.strip().casefold()
        return any(name.casefold() == wanted for name in self.suppress_resolutions)


DEFAULT_POLICY = LifecyclePolicy()


def policy_from_config(config: object) -> LifecyclePolicy:
    """The policy kept in a provider's stored config under "lifecycle"; the default if absent.

    The config was validated when saved; a policy that no longer validates (e.g. written by a
    newer version) falls back to the default rather than stopping delivery.
    """
    raw = config.get("lifecycle") if isinstance(config, dict) else None
    if not isinstance(raw, dict):
        return DEFAULT_POLICY
    try:
        return LifecyclePolicy.model_validate(raw)
    except ValueError:
        return DEFAULT_POLICY
