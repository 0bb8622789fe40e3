"""The opening of a brand-protection detection's ticket: brand and infringement first, then the
suspicious site (URL, domain, IP as code through `indicator`, so defanged and never linked), the
service's screenshot (a link: it is the service's own capture), and the recommended action."""

from __future__ import annotations

from sentineliq.alerts.model import BrandProtection, DetectionType, InfringementType
from sentineliq.document.model import (
    Block,
    Heading,
    Inline,
    Panel,
    Paragraph,
    Table,
    TableCell,
    TableRow,
    Text,
)
from sentineliq.tickets.content import TicketContent
from sentineliq.tickets.indicators import indicator

INFRINGEMENTS = {
    InfringementType.COUNTERFEITING: "Counterfeiting",
    InfringementType.IMPERSONATION: "Impersonation",
    InfringementType.DOMAIN_SQUATTING: "Domain squatting",
    InfringementType.PHISHING: "Phishing",
    InfringementType.TRADEMARK_MISUSE: "Trademark misuse",
    InfringementType.COPYRIGHT: "Copyright infringement",
    InfringementType.FAKE_APP: "Fake app",
    InfringementType.SOCIAL_MEDIA: "Social media abuse",
    InfringementType.OTHER: "Other",
}
_DETECTIONS = {
    DetectionType.CONTENT: "Content",
    DetectionType.DOMAIN: "Domain",
    DetectionType.VISUAL: "Visual similarity",
    DetectionType.OCR: "Text in images (OCR)",
}


def brand_section(detection: BrandProtection, content: TicketContent) -> list[Block]:
    screenshot = str(detection.screenshot_url) if detection.screenshot_url else None
    confidence = f"{detection.confidence * 100:.0f} %" if detection.confidence is not None else None
    rows: list[tuple[str, Inline | None]] = [
        ("Brand", Text(detection.brand, strong=True)),
        ("Infringement", Text(INFRINGEMENTS[detection.infringement_type], strong=True)),
        ("Suspicious URL", _indicator(detection.url, content)),
        ("Domain", _indicator(detection.domain, content)),
        ("IP address", _indicator(detection.ip, content)),
        ("Screenshot", Text(screenshot, href=screenshot) if screenshot else None),
        (
            "Detected by",
            Text(_DETECTIONS[detection.detection_type]) if detection.detection_type else None,
        ),
        ("Confidence", Text(confidence) if confidence else None),
    ]
    blocks: list[Block] = [
        Heading(2, (Text("Brand protection"),)),
        Table(
            tuple(
                TableRow(
                    (
                        TableCell((Paragraph((Text(name),)),), header=True),
                        TableCell((Paragraph((value,)),)),
                    )
                )
                for name, value in rows
                if value is not None
            )
        ),
    ]
    if detection.recommended_action:
        blocks.append(
            Panel(
                "note",
                (
                    Paragraph((Text("Recommended action", strong=True),)),
                    Paragraph((Text(detection.recommended_action),)),
                ),
            )
        )
    return blocks


def _indicator(value: str | None, content: TicketContent) -> Text | None:
    return indicator(value, content) if value else None
