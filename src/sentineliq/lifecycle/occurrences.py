"""What a repeat of an alert brought: its severity, new observables, new assets; and the
summary of a window's repeats that one ticket comment reports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sentineliq.alerts.model import Alert, Severity

SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


def higher(a: Severity, b: Severity) -> Severity:
    return a if SEVERITY_RANK[a] >= SEVERITY_RANK[b] else b


def rises(new: Severity, over: Severity) -> bool:
    return SEVERITY_RANK[new] > SEVERITY_RANK[over]


@dataclass(frozen=True)
class ObservableKey:
    type: str
    value: str

    def to_json(self) -> dict[str, str]:
        return {"type": self.type, "value": self.value}


@dataclass(frozen=True)
class Novelty:
    """What a repeat brings that the alert and its earlier repeats did not have."""

    observables: tuple[ObservableKey, ...]
    assets: tuple[str, ...]


def novelty(alert: Alert, known_observables: set[ObservableKey], known_assets: set[str]) -> Novelty:
    """New observables and assets of `alert`, in its order; assets compare case-insensitively."""
    observables: list[ObservableKey] = []
    for observable in alert.observables:
        key = ObservableKey(observable.type.value, observable.value)
        if key not in known_observables and key not in observables:
            observables.append(key)
    assets: list[str] = []
    folded = {a.casefold() for a in known_assets}
    for asset in alert.affected_assets:
        if asset.casefold() not in folded:
            folded.add(asset.casefold())
            assets.append(asset)
    return Novelty(tuple(observables), tuple(assets))


@dataclass(frozen=True)
class OccurrenceFacts:
    """One stored repeat, as the comment needs it."""

    seq: int
    detected_at: datetime
    severity: Severity
    raised_from: Severity | None
    new_observables: tuple[ObservableKey, ...]
    new_assets: tuple[str, ...]


@dataclass(frozen=True)
class OccurrenceSummary:
    """A window's repeats of one alert, for one comment."""

    count: int
    first_seen: datetime
    last_seen: datetime
    total: int  # all repeats so far, this window's included
    severity_from: Severity | None  # set when the window raised the severity
    severity_to: Severity | None
    new_observables: tuple[ObservableKey, ...]
    new_assets: tuple[str, ...]

    @property
    def changes(self) -> list[str]:
        """What changed, e.g. ["severity raised high → critical", "3 new observables"]."""
        said: list[str] = []
        if self.severity_from is not None and self.severity_to is not None:
            said.append(f"severity raised {self.severity_from.value} → {self.severity_to.value}")
        if self.new_observables:
            n = len(self.new_observables)
            said.append(f"{n} new observable{'s' if n != 1 else ''}")
        if self.new_assets:
            n = len(self.new_assets)
            said.append(f"{n} new affected asset{'s' if n != 1 else ''}")
        return said


def summarize(occurrences: Sequence[OccurrenceFacts], *, total: int) -> OccurrenceSummary:
    """One summary of `occurrences` (at least one): first/last by detection time, the raise from
    the first one's prior severity to the highest reached, and everything new, without repeats."""
    if not occurrences:
        raise ValueError("a summary needs at least one occurrence")
    ordered = sorted(occurrences, key=lambda o: o.seq)
    raised = [o for o in ordered if o.raised_from is not None]
    severity_from = raised[0].raised_from if raised else None
    severity_to = None
    if raised:
        severity_to = raised[0].severity
        for o in raised[1:]:
            severity_to = higher(severity_to, o.severity)
    return OccurrenceSummary(
        count=len(ordered),
        first_seen=min(o.detected_at for o in ordered),
        last_seen=max(o.detected_at for o in ordered),
        total=total,
        severity_from=severity_from,
        severity_to=severity_to,
        new_observables=_unique(k for o in ordered for k in o.new_observables),
        new_assets=_unique(a for o in ordered for a in o.new_assets),
    )


_T = TypeVar("_T")


def _unique(items: Iterable[_T]) -> tuple[_T, ...]:
    return tuple(dict.fromkeys(items))
