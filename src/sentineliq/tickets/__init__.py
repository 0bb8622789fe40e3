"""From alert to ticket draft: what a ticket says, independent of the ticket system.

`build_draft(alert, ...)` makes the `TicketDraft` a provider files (summary, description as a
neutral Document, priority, labels, assignee, due date, attributes for custom fields);
`build_description` is the description's layout on its own.
"""

from sentineliq.tickets.build import build_draft, one_line
from sentineliq.tickets.draft import AttributeValue, Priority, TicketDraft
from sentineliq.tickets.layout import build_description

__all__ = [
    "AttributeValue",
    "Priority",
    "TicketDraft",
    "build_description",
    "build_draft",
    "one_line",
]
