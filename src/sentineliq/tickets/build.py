"""Alert -> TicketDraft: the one place that decides summary, priority, labels and attributes."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sentineliq.alerts.custody import CustodyCheck
from sentineliq.alerts.files import EvidenceFile
from sentineliq.alerts.model import Alert, Severity
from sentineliq.document.model import Document
from sentineliq.lifecycle.fingerprint import fingerprint_of
from sentineliq.mitre.catalog import AttackCatalog
from sentineliq.tickets.content import DEFAULT_CONTENT, TicketContent
from sentineliq.tickets.draft import AttributeValue, Priority, TicketDraft
from sentineliq.tickets.layout import build_description, iso_utc
from sentineliq.tickets.redaction import Redactor

PRIORITY_FOR_SEVERITY = {
    Severity.CRITICAL: Priority.CRITICAL,
    Severity.HIGH: Priority.HIGH,
    Severity.MEDIUM: Priority.MEDIUM,
    Severity.LOW: Priority.LOW,
    Severity.INFO: Priority.LOW,
}
# Control characters that str.split() does not treat as whitespace; invisible in a summary.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f]")


def one_line(text: str) -> str:
    """Collapse all whitespace (newlines included) to single spaces and drop control characters."""
    return " ".join(_CONTROL.sub("", text).split())


def build_draft(
    alert: Alert,
    *,
    workspace_name: str,
    catalog: AttackCatalog | None = None,
    fingerprint: str | None = None,
    content: TicketContent = DEFAULT_CONTENT,
    custody: Sequence[CustodyCheck] | None = None,
    files: Sequence[EvidenceFile] = (),
) -> TicketDraft:
    """`fingerprint`: the one the alert is stored under (a workspace's recipe may derive it);
    by default the alert's own. `content`: the workspace's choices of what tickets show; its
    redaction masks secrets here, before providers measure and cut what they send.
    `custody`: the evidence chains as verified just now (see build_description); `files`: the
    alert's uploaded evidence files."""
    fingerprint = fingerprint or fingerprint_of(alert)
    redact = Redactor(content.redaction)
    document: Document = build_description(
        alert,
        workspace_name=workspace_name,
        catalog=catalog,
        fingerprint=fingerprint,
        content=content,
        custody=custody,
        files=files,
    )
    attributes = {
        name: redact.json(value) for name, value in _attributes(alert, fingerprint).items()
    }
    return TicketDraft(
        summary=one_line(redact.text(alert.title)),
        document=redact.document(document),
        priority=PRIORITY_FOR_SEVERITY[alert.severity],
        labels=tuple(dict.fromkeys(redact.text(label) for label in _labels(alert, content))),
        assignee_email=alert.assignee_email,
        due_date=alert.due_date,
        link=str(alert.link) if alert.link is not None else None,
        attributes=attributes,
    )


def _labels(alert: Alert, content: TicketContent) -> tuple[str, ...]:
    labels = [
        *alert.tags,
        "sentineliq",
        f"severity-{alert.severity.value}",
        f"module-{alert.module.value}",
        *(
            [f"infringement-{alert.brand_protection.infringement_type.value}"]
            if alert.brand_protection is not None
            else []
        ),
        *(content.attack.label(attack_id) for attack_id in alert.mitre),
    ]
    return tuple(dict.fromkeys(labels))  # first occurrence wins, order kept


def _attributes(alert: Alert, fingerprint: str) -> dict[str, AttributeValue]:
    return {
        "severity": alert.severity.value,
        "status": alert.status.value,
        "source": alert.source,
        "category": alert.category,
        "threat_score": alert.threat_score,
        "detected_at": iso_utc(alert.detected_at),
        "external_id": alert.external_id,
        "fingerprint": fingerprint,
        "module": alert.module.value,
        "mitre": list(alert.mitre),
        "link": str(alert.link) if alert.link is not None else None,
        "title": alert.title,
    }
