"""The site's workflow: which transitions an issue offers from its status, the resolutions a
done transition may set, and the language status and transition names are shown in.

Two workflows, as real sites have them:

- "simple" (the default): global transitions 11 / 21 / 31, each named after its target status,
  available from every other status (Jira's simplified workflow).
- "classic": Jira's classic default workflow, where transitions depend on the current status:
  To Do -> Start Progress (4), Resolve Issue (5), Close Issue (2); In Progress -> Stop Progress
  (301), Resolve Issue (5); Done -> Reopen Issue (3) only.

A locale renames statuses and transitions (ids and status categories stay), so a client must
rely on categories and on names it was configured with, never on English.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sentineliq.sandbox.jira.model import Status, StatusCategory, Transition
from sentineliq.sandbox.jira.seed import DONE, IN_PROGRESS, STATUSES, TO_DO, TRANSITIONS

WORKFLOWS = ("simple", "classic")


@dataclass(frozen=True)
class Resolution:
    id: str
    name: str
    description: str


RESOLUTIONS = (
    Resolution("10000", "Done", "Work has been completed on this issue."),
    Resolution("10001", "Won't Do", "This issue won't be actioned."),
    Resolution("10002", "Won't Fix", "A decision was made not to fix this problem."),
    Resolution("10003", "Duplicate", "The problem is a duplicate of an existing issue."),
    Resolution("10004", "Declined", "This issue was not approved."),
    Resolution("10005", "Cannot Reproduce", "The problem could not be reproduced."),
)
DEFAULT_RESOLUTION = RESOLUTIONS[0]


def find_resolution(ref: dict[str, object]) -> Resolution | None:
    """The resolution a {"id": ...} or {"name": ...} object names (names case-insensitively)."""
    rid, name = ref.get("id"), ref.get("name")
    for resolution in RESOLUTIONS:
        if rid is not None and str(rid) == resolution.id:
            return resolution
        if isinstance(name, str) and name.strip().lower() == resolution.name.lower():
            return resolution
    return None


def resolution_by_name(name: str | None) -> Resolution | None:
    return next((r for r in RESOLUTIONS if r.name == name), None)


@dataclass(frozen=True)
class Step:
    """A transition and the statuses it leaves from (None: global, from any other status)."""

    transition: Transition
    sources: frozenset[str] | None = None


_CLASSIC = (
    Step(Transition("4", "Start Progress", IN_PROGRESS), frozenset({TO_DO.id})),
    Step(Transition("5", "Resolve Issue", DONE), frozenset({TO_DO.id, IN_PROGRESS.id})),
    Step(Transition("2", "Close Issue", DONE), frozenset({TO_DO.id})),
    Step(Transition("301", "Stop Progress", TO_DO), frozenset({IN_PROGRESS.id})),
    Step(Transition("3", "Reopen Issue", TO_DO), frozenset({DONE.id})),
)
_STEPS = {"simple": tuple(Step(t) for t in TRANSITIONS), "classic": _CLASSIC}

# Built-in translations (a site whose users see Jira in German); any other mapping can be given.
GERMAN_STATUSES = {TO_DO.id: "Zu erledigen", IN_PROGRESS.id: "In Arbeit", DONE.id: "Erledigt"}
GERMAN_TRANSITIONS = {
    "11": "Zu erledigen",
    "21": "In Arbeit",
    "31": "Erledigt",
    "4": "Vorgang starten",
    "5": "Vorgang erledigen",
    "2": "Vorgang schließen",
    "301": "Vorgang anhalten",
    "3": "Erneut öffnen",
}
LOCALES = {"en": ({}, {}), "de": (GERMAN_STATUSES, GERMAN_TRANSITIONS)}


@dataclass(frozen=True)
class Workflow:
    name: str = "simple"
    status_names: dict[str, str] = field(default_factory=dict)  # status id -> shown name
    transition_names: dict[str, str] = field(default_factory=dict)  # transition id -> name
    # Whether done transitions have a screen holding Resolution. Team-managed and simplified
    # workflows have none: a resolution sent with the move is refused, Jira sets Done itself.
    resolution_screen: bool = True

    def __post_init__(self) -> None:
        if self.name not in WORKFLOWS:
            raise ValueError(f"workflow must be one of {', '.join(WORKFLOWS)}, not {self.name!r}")

    def status(self, status: Status) -> Status:
        """`status` under this site's names (same id and category)."""
        return Status(status.id, self.status_names.get(status.id, status.name), status.category)

    def statuses(self) -> list[Status]:
        return [self.status(s) for s in STATUSES]

    def available(self, current: Status) -> list[Transition]:
        """The transitions offered from `current`, in workflow order, names localized."""
        out = []
        for step in _STEPS[self.name]:
            t = step.transition
            offered = t.to.id != current.id if step.sources is None else current.id in step.sources
            if offered:
                out.append(
                    Transition(t.id, self.transition_names.get(t.id, t.name), self.status(t.to))
                )
        return out

    def find(self, current: Status, transition_id: object) -> Transition | None:
        """The transition with this id if it is available from `current`, as on Cloud."""
        return next((t for t in self.available(current) if t.id == str(transition_id)), None)


def is_done(status: Status) -> bool:
    return status.category is StatusCategory.DONE
