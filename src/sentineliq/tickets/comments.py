"""The comments SentinelIQ writes on a living ticket: repeats of its alert, and status changes
made in SentinelIQ. Neutral documents; providers render them (ADF for Jira)."""

from __future__ import annotations

from collections.abc import Sequence

from sentineliq.alerts.model import ObservableType
from sentineliq.document.model import (
    Block,
    BulletList,
    Document,
    Heading,
    ListItem,
    Paragraph,
    Table,
    TableCell,
    TableRow,
    Text,
)
from sentineliq.lifecycle.occurrences import ObservableKey, OccurrenceSummary
from sentineliq.tickets.content import DEFAULT_CONTENT, TicketContent
from sentineliq.tickets.indicators import indicator
from sentineliq.tickets.layout import iso_utc
from sentineliq.tickets.redaction import Redactor

# A storm brings hundreds of new observables; the comment lists this many, then counts the rest.
MAX_LISTED = 25


def _para(*inlines: Text) -> Paragraph:
    return Paragraph(tuple(inlines))


def _cell(text: str, *, header: bool = False, code: bool = False) -> TableCell:
    return TableCell((_para(Text(text, code=code)),), header=header)


def occurrences_comment(
    summary: OccurrenceSummary,
    *,
    reopened_from: str | None = None,
    link: str | None = None,
    content: TicketContent = DEFAULT_CONTENT,
) -> Document:
    """ "Fired again N times" with first/last seen, what changed, and what is new; new
    indicators shown as the description shows them, secrets redacted as there."""
    times = "once more" if summary.count == 1 else f"{summary.count} more times"
    blocks: list[Block] = [Heading(3, (Text(f"SentinelIQ: the alert fired {times}"),))]
    if reopened_from is not None:
        blocks.append(
            _para(
                Text("Reopened: ", strong=True),
                Text(f"the alert fired again after this ticket was done ({reopened_from})."),
            )
        )
    facts = [
        ("New occurrences", str(summary.count)),
        ("First seen", iso_utc(summary.first_seen)),
        ("Last seen", iso_utc(summary.last_seen)),
        ("Occurrences in total", str(summary.total)),
    ]
    changes = summary.changes
    facts.append(("What changed", "; ".join(changes) if changes else "nothing but the time"))
    blocks.append(
        Table(tuple(TableRow((_cell(name, header=True), _cell(value))) for name, value in facts))
    )
    if summary.new_observables:
        rows = [TableRow((_cell("Type", header=True), _cell("Value", header=True)))]
        rows += [
            TableRow((_cell(o.type), TableCell((_para(_indicator(o, content)),))))
            for o in summary.new_observables[:MAX_LISTED]
        ]
        blocks.append(Heading(4, (Text("New observables"),)))
        blocks.append(Table(tuple(rows)))
        blocks += _more(len(summary.new_observables), "observables")
    if summary.new_assets:
        blocks.append(Heading(4, (Text("New affected assets"),)))
        blocks.append(_bullets(summary.new_assets[:MAX_LISTED]))
        blocks += _more(len(summary.new_assets), "assets")
    if link:
        blocks.append(_para(Text("Alert in its source: "), Text(link, href=link)))
    return Redactor(content.redaction).document(Document(tuple(blocks)))


def _indicator(observable: ObservableKey, content: TicketContent) -> Text:
    try:
        kind = ObservableType(observable.type)
    except ValueError:  # stored by a version with other types: not known to be an address
        return Text(observable.value, code=True)
    return indicator(observable.value, content, kind)


def status_comment(
    *, status: str, actor: str, reason: str | None, link: str | None = None
) -> Document:
    """Who resolved or dismissed the alert in SentinelIQ, and why."""
    blocks: list[Block] = [
        _para(
            Text("SentinelIQ: ", strong=True),
            Text(f"the alert was {status} by "),
            Text(actor, strong=True),
            Text("."),
        )
    ]
    if reason:
        blocks.append(_para(Text("Reason: ", strong=True), Text(reason)))
    if link:
        blocks.append(_para(Text("Alert in its source: "), Text(link, href=link)))
    return Document(tuple(blocks))


def _bullets(items: Sequence[str]) -> BulletList:
    return BulletList(tuple(ListItem((_para(Text(item)),)) for item in items))


def _more(total: int, what: str) -> list[Block]:
    hidden = total - MAX_LISTED
    if hidden <= 0:
        return []
    return [_para(Text(f"… and {hidden} more new {what} (see the alert in SentinelIQ)", em=True))]
