"""What a ticket description says about an alert, as a neutral document.

Order: the most decision-relevant first (a brand-protection detection opens with its brand
section, see tickets.brand). A facts table (severity, source, time, and the link back to
the alert, so it survives truncation of the tail), what happened (the alert text), the affected
assets, then MITRE ATT&CK, observables, evidence with its chain of custody, and the link again at
the end. Sections without data are left out, except the alert text. Every value from
the alert goes into a Text node as-is: renderers never interpret it as markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sentineliq.alerts.custody import CustodyCheck, CustodyLine
from sentineliq.alerts.files import EvidenceFile
from sentineliq.alerts.model import (
    Alert,
    CustodyEntry,
    Evidence,
    EvidenceType,
    Module,
    Observable,
    ObservableType,
    Severity,
    Tlp,
)
from sentineliq.document.model import (
    Block,
    BulletList,
    Document,
    Heading,
    Inline,
    ListItem,
    Panel,
    PanelKind,
    Paragraph,
    Table,
    TableCell,
    TableRow,
    Text,
)
from sentineliq.lifecycle.fingerprint import fingerprint_of
from sentineliq.mitre.catalog import AttackCatalog, Resolved, attack_url, default_catalog
from sentineliq.tickets.brand import brand_section
from sentineliq.tickets.content import DEFAULT_CONTENT, TicketContent
from sentineliq.tickets.indicators import indicator

_MODULES = {
    Module.AEGIS: "Aegis — security alert",
    Module.ECLIPSE: "Eclipse — brand-protection detection",
}
_OBSERVABLE_TYPES = {
    ObservableType.IP: "IP address",
    ObservableType.DOMAIN: "Domain",
    ObservableType.URL: "URL",
    ObservableType.HASH_MD5: "MD5",
    ObservableType.HASH_SHA1: "SHA-1",
    ObservableType.HASH_SHA256: "SHA-256",
    ObservableType.EMAIL: "Email address",
    ObservableType.FILE: "File",
    ObservableType.REGISTRY: "Registry key",
    ObservableType.USER_AGENT: "User agent",
    ObservableType.OTHER: "Other",
}
_EVIDENCE_TYPES = {
    EvidenceType.EMAIL: "Email",
    EvidenceType.NETWORK: "Network capture",
    EvidenceType.FILE: "File",
    EvidenceType.LOG: "Log",
    EvidenceType.SCREENSHOT: "Screenshot",
    EvidenceType.MEMORY_DUMP: "Memory dump",
    EvidenceType.DISK_IMAGE: "Disk image",
    EvidenceType.OTHER: "Other",
}
_SEVERITY_PANELS: dict[Severity, tuple[PanelKind, str, str]] = {
    Severity.CRITICAL: ("error", "Critical severity", " — triage immediately."),
    Severity.HIGH: ("warning", "High severity", " — triage promptly."),
}
_BLANK_LINE = re.compile(r"\r?\n[ \t]*\r?\n")
_SIZE_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB")


def build_description(
    alert: Alert,
    *,
    workspace_name: str,
    catalog: AttackCatalog | None = None,
    fingerprint: str | None = None,
    content: TicketContent = DEFAULT_CONTENT,
    custody: Sequence[CustodyCheck] | None = None,
    files: Sequence[EvidenceFile] = (),
) -> Document:
    """`custody`: the evidence chains as stored and verified just now; the ticket shows those
    (entries added later included) with their integrity status. None: the alert's own.
    `files`: the alert's uploaded evidence files (attached to the ticket by the outbox), listed
    with their hashes and custody status under Evidence."""
    catalog = catalog or default_catalog()
    blocks: list[Block] = []
    if alert.brand_protection is not None:  # a detection opens with the brand and infringement
        blocks += brand_section(alert.brand_protection, content)
    panel = _SEVERITY_PANELS.get(alert.severity)
    if panel is not None:
        kind, headline, rest = panel
        blocks.append(Panel(kind, (Paragraph((Text(headline, strong=True), Text(rest))),)))
    blocks.append(_facts(alert, workspace_name, fingerprint or fingerprint_of(alert)))
    blocks += _alert_text(alert)
    blocks += _assets(alert.affected_assets)
    blocks += _mitre(alert.mitre, catalog)
    blocks += _observables(alert.observables, content)
    blocks += _evidence(alert.evidence, custody, files)
    blocks += _link(alert)
    return Document(tuple(blocks))


# --- building blocks ------------------------------------------------------------------------------


def _heading(text: str, level: int = 2) -> Heading:
    return Heading(level, (Text(text),))


def _para(*inlines: Inline) -> Paragraph:
    return Paragraph(tuple(inlines))


def _cell(*inlines: Inline, header: bool = False) -> TableCell:
    return TableCell((_para(*inlines),), header=header)


def _header_row(*titles: str) -> TableRow:
    return TableRow(tuple(_cell(Text(title), header=True) for title in titles))


def _fact_table(rows: Iterable[tuple[str, Inline | None]]) -> Table | None:
    """Two columns, names as header cells; rows without a value are left out."""
    table_rows = tuple(
        TableRow((_cell(Text(name), header=True), _cell(value)))
        for name, value in rows
        if value is not None
    )
    return Table(table_rows) if table_rows else None


def _plain(value: str | None) -> Text | None:
    return Text(value) if value else None


def _code(value: str | None) -> Text | None:
    return Text(value, code=True) if value else None


def iso_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, the one unambiguous form for analysts across time zones."""
    try:
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    except OverflowError:  # within hours of year 1 or 9999: keep the source's own offset
        return moment.isoformat()


def human_size(size: int) -> str:
    """1,572,864 -> "1.5 MiB (1,572,864 bytes)"; small sizes stay in bytes."""
    if size < 1024:
        return "1 byte" if size == 1 else f"{size:,} bytes"
    value = size / 1024
    index = 0
    while value >= 1024 and index < len(_SIZE_UNITS) - 1:
        value /= 1024
        index += 1
    return f"{value:,.1f} {_SIZE_UNITS[index]} ({size:,} bytes)"


def tlp_label(tlp: Tlp) -> str:
    return f"TLP:{tlp.value.upper()}"


# --- sections -------------------------------------------------------------------------------------


def _facts(alert: Alert, workspace_name: str, fingerprint: str) -> Table:
    link = str(alert.link) if alert.link else None
    score = f"{alert.threat_score} / 100" if alert.threat_score is not None else None
    table = _fact_table(
        [
            ("Severity", _plain(alert.severity.value.capitalize())),
            ("Status", _plain(alert.status.value.capitalize())),
            ("Source", _plain(alert.source)),
            ("Category", _plain(alert.category)),
            ("Threat score", _plain(score)),
            ("Detected at", _plain(iso_utc(alert.detected_at))),
            ("Workspace", _plain(workspace_name.strip() or None)),
            ("Module", _plain(_MODULES[alert.module])),
            ("External id", _plain(alert.external_id)),
            ("Fingerprint", _code(fingerprint)),
            ("Alert link", Text(link, href=link) if link else None),
        ]
    )
    assert table is not None  # severity, status, source... are always present
    return table


def _alert_text(alert: Alert) -> list[Block]:
    blocks: list[Block] = [_heading("Alert"), _para(Text(alert.title, strong=True))]
    paragraphs = [part.strip("\r\n") for part in _BLANK_LINE.split(alert.description)]
    paragraphs = [part for part in paragraphs if part.strip()]
    if not paragraphs:
        blocks.append(_para(Text("No description provided.", em=True)))
    blocks += [_para(Text(part)) for part in paragraphs]
    return blocks


def _mitre(ids: Iterable[str], catalog: AttackCatalog) -> list[Block]:
    unique = list(dict.fromkeys(ids))
    if not unique:
        return []
    rows = [_header_row("ID", "Technique", "Tactics")]
    for attack_id in unique:
        resolved = catalog.resolve(attack_id)
        rows.append(
            TableRow(
                (
                    _cell(Text(resolved.id, href=resolved.url)),
                    TableCell((_mitre_name(resolved, catalog),)),
                    TableCell((_mitre_tactics(resolved),)),
                )
            )
        )
    return [_heading("MITRE ATT&CK"), Table(tuple(rows))]


def _mitre_name(resolved: Resolved, catalog: AttackCatalog) -> Paragraph:
    inlines: list[Inline] = []
    if resolved.name is not None:
        inlines.append(Text(resolved.name))
    if resolved.kind == "tactic":
        inlines.append(Text(" (tactic)" if inlines else "Tactic", em=True))
    if resolved.revoked:
        # The id is kept as the alert sent it and flagged: "PowerShell (revoked; see T1059.001)".
        if resolved.revoked_by is None:
            inlines.append(Text(f" (revoked in ATT&CK {catalog.release})", em=True))
        else:
            inlines.append(Text(" (revoked; see ", em=True))
            inlines.append(Text(resolved.revoked_by, href=attack_url(resolved.revoked_by)))
            inlines.append(Text(")", em=True))
    elif resolved.deprecated:
        inlines.append(Text(f" (deprecated in ATT&CK {catalog.release})", em=True))
    elif resolved.legacy:
        inlines.append(Text(f" — legacy ID, not in ATT&CK {catalog.release}", em=True))
        if resolved.successor is not None:
            inlines.append(Text("; same name now: ", em=True))
            inlines.append(Text(resolved.successor, href=attack_url(resolved.successor)))
    elif not resolved.known:
        prefix = " — " if inlines else ""
        inlines.append(Text(f"{prefix}unknown to ATT&CK {catalog.release}", em=True))
    if resolved.former_name is not None and resolved.note is not None:
        inlines.append(Text(f" — {resolved.note}", em=True))
    return Paragraph(tuple(inlines))


def _mitre_tactics(resolved: Resolved) -> Paragraph:
    inlines: list[Inline] = []
    for tactic in resolved.tactics:
        if inlines:
            inlines.append(Text(", "))
        inlines.append(Text(f"{tactic.name} ("))
        inlines.append(Text(tactic.id, href=tactic.url))
        inlines.append(Text(")"))
    return Paragraph(tuple(inlines) or (Text("—"),))


def _observables(observables: Iterable[Observable], content: TicketContent) -> list[Block]:
    rows = [
        TableRow(
            (
                _cell(Text(_OBSERVABLE_TYPES[item.type])),
                _cell(indicator(item.value, content, item.type)),
                _cell(Text(tlp_label(item.tlp))),
            )
        )
        for item in observables
    ]
    if not rows:
        return []
    return [_heading("Observables"), Table((_header_row("Type", "Value", "TLP"), *rows))]


def _assets(assets: Iterable[str]) -> list[Block]:
    items = tuple(ListItem((_para(Text(asset)),)) for asset in assets)
    return [_heading("Affected assets"), BulletList(items)] if items else []


def _evidence(
    evidence: Iterable[Evidence],
    checks: Sequence[CustodyCheck] | None,
    files: Sequence[EvidenceFile] = (),
) -> list[Block]:
    by_index = {check.evidence_index: check for check in checks or ()}
    by_id = {check.evidence_id: check for check in checks or () if check.evidence_id}
    blocks: list[Block] = []
    for index, item in enumerate(evidence):
        check = by_index.get(index)
        deleted = check.deleted if check is not None else None
        blocks.append(_heading(item.name + (" (deleted)" if deleted else ""), level=3))
        details = _fact_table(
            [
                ("Type", _plain(_EVIDENCE_TYPES[item.type])),
                ("Size", _plain(None if item.size_bytes is None else human_size(item.size_bytes))),
                ("Location", _plain(item.location)),
                ("Collected at", _plain(iso_utc(item.collected_at) if item.collected_at else None)),
                ("Collected by", _plain(item.collected_by)),
                ("MD5", _code(item.hashes.md5)),
                ("SHA-1", _code(item.hashes.sha1)),
                ("SHA-256", _code(item.hashes.sha256)),
            ]
        )
        if details is not None:
            blocks.append(details)
        if check is not None:
            blocks += _checked_custody(check)
        elif item.custody:
            blocks.append(_para(Text("Chain of custody", strong=True)))
            blocks.append(_custody(item.custody))
    for file in files:
        blocks += _evidence_file(file, by_id.get(file.evidence_id or ""))
    return [_heading("Evidence"), *blocks] if blocks else []


def _evidence_file(file: EvidenceFile, check: CustodyCheck | None) -> list[Block]:
    """An uploaded file: its hashes as SentinelIQ computed them on upload, where it is (attached
    to this issue; linked instead when too large), and its chain of custody's status."""
    details = _fact_table(
        [
            ("Type", _plain("File (uploaded to SentinelIQ, attached to this issue)")),
            ("Size", _plain(human_size(file.size_bytes))),
            ("Content type", _plain(file.content_type)),
            ("Uploaded at", _plain(iso_utc(file.created_at))),
            ("Uploaded by", _plain(file.uploaded_by)),
            ("MD5", _code(file.md5)),
            ("SHA-1", _code(file.sha1)),
            ("SHA-256", _code(file.sha256)),
        ]
    )
    blocks: list[Block] = [_heading(file.file_name, level=3)]
    if details is not None:
        blocks.append(details)
    if check is not None:
        blocks += _checked_custody(check)
    return blocks


def _checked_custody(check: CustodyCheck) -> list[Block]:
    """The stored chain in its order, numbered as verification names entries, and its status:
    a line with the time it was checked, or an error panel naming the broken entry."""
    blocks: list[Block] = []
    checked = iso_utc(check.checked_at.replace(microsecond=0))
    if check.ok:
        blocks.append(_para(Text(f"Chain of custody verified at {checked}", strong=True)))
    else:
        blocks.append(
            Panel(
                "error",
                (
                    _para(Text(check.headline, strong=True)),
                    _para(Text(f"{check.problem} (checked at {checked}).")),
                ),
            )
        )
    if check.lines:
        blocks.append(_custody_lines(check.lines))
    return blocks


def _custody_lines(lines: Iterable[CustodyLine]) -> Table:
    rows = [_header_row("#", "Action", "Actor", "At", "Location", "Notes")]
    for line in lines:
        rows.append(
            TableRow(
                (
                    _cell(Text(str(line.number))),
                    _cell(Text(line.action.capitalize())),
                    _cell(Text(line.actor)),
                    _cell(Text(iso_utc(line.at))),
                    _cell(Text(line.location or "—")),
                    _cell(Text(line.notes or "—")),
                )
            )
        )
    return Table(tuple(rows))


def _custody(entries: Iterable[CustodyEntry]) -> Table:
    # sorted() is stable: entries logged at the same instant keep the order the source gave.
    ordered = sorted(entries, key=lambda entry: entry.at)
    rows = [_header_row("#", "Action", "Actor", "At", "Location", "Notes")]
    for number, entry in enumerate(ordered, start=1):
        rows.append(
            TableRow(
                (
                    _cell(Text(str(number))),
                    _cell(Text(entry.action.value.capitalize())),
                    _cell(Text(entry.actor)),
                    _cell(Text(iso_utc(entry.at))),
                    _cell(Text(entry.location or "—")),
                    _cell(Text(entry.notes or "—")),
                )
            )
        )
    return Table(tuple(rows))


def _link(alert: Alert) -> list[Block]:
    if alert.link is None:
        body = _para(Text("No link to the alert was provided.", em=True))
    else:
        link = str(alert.link)
        body = _para(Text(link, href=link))
    return [_heading("Link to alert"), body]
