"""What a repeat does to its ticket, given the ticket as the ticket system shows it now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sentineliq.lifecycle.policy import LifecyclePolicy
from sentineliq.lifecycle.ticketstate import IssueState


class Action(StrEnum):
    COMMENT = "comment"  # the ticket is open: comment (and raise the priority if due)
    REOPEN = "reopen"  # done within the reopen window: reopen it, then comment
    RELATE = "relate"  # done longer ago: file a new ticket linked to it
    SUPPRESS = "suppress"  # done as "Won't Fix" and the like: record the repeat only


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str


def decide(
    ticket: IssueState,
    policy: LifecyclePolicy,
    now: datetime,
    *,
    newest_repeat_at: datetime | None = None,
) -> Decision:
    """`newest_repeat_at`: when the newest of the repeats to report arrived. Repeats that all
    arrived before the ticket was done were known when someone closed it: they reopen nothing."""
    if not ticket.done:
        return Decision(Action.COMMENT, f"{ticket.key} is open ({ticket.status})")
    if policy.suppresses(ticket.resolution):
        return Decision(
            Action.SUPPRESS,
            f"{ticket.key} was resolved as {ticket.resolution!r}: repeats are recorded only",
        )
    # Workflows without a resolution date: the last update is the best witness of "done since".
    done_at = ticket.resolved_at or ticket.updated_at
    if done_at is not None and newest_repeat_at is not None and newest_repeat_at <= done_at:
        return Decision(
            Action.SUPPRESS,
            f"{ticket.key} was done after these repeats arrived: they are recorded only",
        )
    window = timedelta(days=policy.reopen_window_days)
    if done_at is None or now - done_at <= window:
        return Decision(
            Action.REOPEN,
            f"{ticket.key} is done ({ticket.status}) since less than "
            f"{policy.reopen_window_days:g} days: reopened",
        )
    return Decision(
        Action.RELATE,
        f"{ticket.key} has been done for more than {policy.reopen_window_days:g} days: "
        "a new ticket relates to it",
    )
