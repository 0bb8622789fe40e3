"""How an indicator (a URL, domain, IP or email an alert reports) appears in a ticket: as code
text, never as a link, and defanged unless the workspace turned that off. The one place every
section that shows indicators goes through (observables; brand-protection url/domain/ip fields),
so the workspace's choices about them (`TicketContent`) apply everywhere at once.

Only values that are addresses are defanged: hashes, file names, registry keys or the actors of a
custody table are not indicators of a place one could visit, and bracketing their dots would only
make them harder to search for.
"""

from __future__ import annotations

from sentineliq.alerts.model import ObservableType
from sentineliq.document.model import Text
from sentineliq.tickets.content import TicketContent
from sentineliq.tickets.defang import defang

ADDRESS_TYPES = frozenset(
    {ObservableType.URL, ObservableType.DOMAIN, ObservableType.IP, ObservableType.EMAIL}
)


def indicator(value: str, content: TicketContent, kind: ObservableType | None = None) -> Text:
    """`kind`: what the value is; None for a field that always holds an address (a detection's
    url, domain or ip). Code text, never `href`: no indicator becomes a link."""
    if content.defang and (kind is None or kind in ADDRESS_TYPES):
        value = defang(value)
    return Text(value, code=True)
