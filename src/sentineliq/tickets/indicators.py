"""How an indicator (a URL, domain, IP or email an alert reports) appears in a ticket: as code
text, never as a link. The one place every section that shows indicators goes through, so the
workspace's choices about them (`TicketContent`) apply everywhere at once."""

from __future__ import annotations

from sentineliq.alerts.model import ObservableType
from sentineliq.document.model import Text
from sentineliq.tickets.content import TicketContent


def indicator(value: str, content: TicketContent, kind: ObservableType | None = None) -> Text:
    """`kind`: what the value is, when the alert says (None: tell from the value itself)."""
    return Text(value, code=True)
