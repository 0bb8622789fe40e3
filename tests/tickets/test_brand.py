"""Brand-protection detections: what ingest accepts, the gate that decides which file a ticket,
and their ticket layout (valid ADF, the suspicious site never a live link)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentineliq.alerts.model import Alert, InfringementType, Severity
from sentineliq.alerts.normalize import normalize_alert
from sentineliq.document.adf import render_adf
from sentineliq.document.schema import adf_schema
from sentineliq.tickets.build import build_draft
from sentineliq.tickets.content import BrandGate, TicketContent, content_from_config
from sentineliq.tickets.layout import build_description

VALIDATOR = jsonschema_rs.Draft4Validator(adf_schema())
DETECTION: dict[str, Any] = {
    "title": "Counterfeit Acme store",
    "severity": "critical",
    "source": "Eclipse",
    "detected_at": "2026-11-27T08:00:00Z",
    "brand_protection": {
        "brand": "Acme",
        "detection_type": "visual",
        "infringement_type": "counterfeiting",
        "url": "https://acme-outlet.example/sale?id=1",
        "domain": "acme-outlet.example",
        "ip": "203.0.113.7",
        "screenshot_url": "https://captures.eclipse.example/ECL-1.png",
        "confidence": 0.93,
        "recommended_action": "File a takedown with the registrar.",
    },
}


def detection(**section: Any) -> dict[str, Any]:
    record = dict(DETECTION)
    brand = {**DETECTION["brand_protection"], **section}
    record["brand_protection"] = {k: v for k, v in brand.items() if v is not None}
    return record


def accepted(record: dict[str, Any]) -> Alert:
    normalized = normalize_alert(record)
    assert normalized.alert is not None, normalized.refusals
    return normalized.alert


def refusals(record: dict[str, Any]) -> list[tuple[str, str]]:
    normalized = normalize_alert(record)
    assert normalized.alert is None
    return [(r.field, r.problem) for r in normalized.refusals]


def warnings(record: dict[str, Any]) -> dict[str, str]:
    normalized = normalize_alert(record)
    assert normalized.alert is not None, normalized.refusals
    return {w.field: w.message for w in normalized.warnings}


# --- ingest: strict about what makes a ticket, tolerant about the cosmetic -----------------------


def test_a_detection_is_read_as_an_eclipse_alert() -> None:
    alert = accepted(DETECTION)
    assert alert.module.value == "eclipse"
    assert alert.brand_protection is not None
    assert alert.brand_protection.infringement_type is InfringementType.COUNTERFEITING
    assert alert.brand_protection.confidence == 0.93


@pytest.mark.parametrize(
    ("section", "field", "problem"),
    [
        ({"brand": None}, "brand_protection.brand", "Field required"),
        ({"brand": "  "}, "brand_protection.brand", "String should have at least 1 character"),
        ({"infringement_type": None}, "brand_protection.infringement_type", "Field required"),
        ({"infringement_type": "counterfieting"}, "brand_protection.infringement_type", "Input"),
        ({"screenshot_url": "javascript:alert(1)"}, "brand_protection.screenshot_url", "the "),
    ],
)
def test_what_decides_the_ticket_is_refused_naming_the_field(
    section: dict[str, Any], field: str, problem: str
) -> None:
    [(named, said)] = refusals(detection(**section))
    assert named == field
    assert said.startswith(problem)


def test_a_section_that_is_not_an_object_is_refused() -> None:
    assert refusals({**DETECTION, "brand_protection": "Acme"}) == [
        ("brand_protection", "Input should be an object")
    ]


def test_cosmetic_oddities_are_repaired_with_a_warning() -> None:
    said = warnings(
        {
            **detection(
                infringement_type="Domain-Squatting",
                detection_type=" OCR ",
                confidence=87,
                ip="not an address",
                screenshot_url="ftp://captures.example/1.png",
            ),
            "module": "aegis",
        }
    )
    assert said == {
        "brand_protection.infringement_type": "read 'Domain-Squatting' as 'domain_squatting'",
        "brand_protection.detection_type": "read ' OCR ' as 'ocr'",
        "brand_protection.confidence": "read 87 as a percentage: 0.87",
        "brand_protection.ip": "'not an address' is not an IPv4 or IPv6 address "
        "(got 'not an address'); ignored",
        "brand_protection.screenshot_url": "URL scheme should be 'http' or 'https' "
        "(got 'ftp://captures.example/1.png'); ignored",
        "module": "read 'aegis' as 'eclipse' (brand_protection is a brand-protection detection)",
    }


def test_a_confidence_beyond_a_percentage_is_dropped_with_a_warning() -> None:
    said = warnings(detection(confidence=250))
    assert said["brand_protection.confidence"].endswith("(got 250); ignored")


# --- the gate -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("severity", "infringement", "ticketed"),
    [
        ("critical", "counterfeiting", True),
        ("high", "impersonation", True),
        ("high", "domain_squatting", True),
        ("medium", "counterfeiting", False),
        ("low", "impersonation", False),
        ("critical", "phishing", False),
        ("high", "other", False),
    ],
)
def test_default_gate(severity: str, infringement: str, ticketed: bool) -> None:
    alert = accepted({**detection(infringement_type=infringement), "severity": severity})
    reason = TicketContent().brand_gate.holds(alert)
    assert (reason is None) is ticketed
    if reason is not None:
        assert reason.startswith(f"below the brand-protection gate: {severity} {infringement}")
        assert "critical, high" in reason


def test_alerts_without_a_detection_are_never_gated() -> None:
    plain = {k: v for k, v in DETECTION.items() if k != "brand_protection"}
    alert = accepted({**plain, "severity": "info"})
    assert BrandGate(severities=(), infringements=()).holds(alert) is None


def test_configured_gate_comes_from_the_stored_config() -> None:
    config = {"content": {"brand_gate": {"severities": ["medium"], "infringements": ["phishing"]}}}
    gate = content_from_config(config).brand_gate
    assert gate.severities == (Severity.MEDIUM,)
    phishing = accepted({**detection(infringement_type="phishing"), "severity": "medium"})
    assert gate.holds(phishing) is None
    assert gate.holds(accepted(DETECTION)) is not None


def test_an_unknown_gate_value_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"brand_gate\.infringements") as caught:
        TicketContent.model_validate({"brand_gate": {"infringements": ["piracy"]}})
    assert "each must be one of: counterfeiting" in str(caught.value)


# --- the layout -----------------------------------------------------------------------------------


def _texts(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") == "text" else []
        return found + [t for child in node.get("content", ()) for t in _texts(child)]
    return []


def test_the_ticket_opens_with_brand_infringement_site_screenshot_and_action() -> None:
    adf = render_adf(build_description(accepted(DETECTION), workspace_name="SOC"))
    assert VALIDATOR.is_valid(adf)
    heading, table, panel = adf["content"][:3]
    assert heading["content"][0]["text"] == "Brand protection"
    rows = [[_texts(cell) for cell in row["content"]] for row in table["content"]]
    by_name = {name[0]["text"]: value for name, value in rows}
    assert list(by_name)[:2] == ["Brand", "Infringement"]
    assert [t["text"] for t in by_name["Infringement"]] == ["Counterfeiting"]
    url = by_name["Suspicious URL"][0]
    assert url["text"] == "hxxps://acme-outlet[.]example/sale?id=1"
    assert url["marks"] == [{"type": "code"}]
    assert by_name["Domain"][0]["text"] == "acme-outlet[.]example"
    assert by_name["IP address"][0]["text"] == "203[.]0[.]113[.]7"
    screenshot = by_name["Screenshot"][0]
    assert screenshot["marks"] == [
        {"type": "link", "attrs": {"href": "https://captures.eclipse.example/ECL-1.png"}}
    ]
    assert [t["text"] for t in by_name["Confidence"]] == ["93 %"]
    assert panel["type"] == "panel"
    assert [t["text"] for t in _texts(panel)] == [
        "Recommended action",
        "File a takedown with the registrar.",
    ]
    # The suspicious site is never a link anywhere in the ticket.
    hrefs = [
        mark["attrs"]["href"]
        for text in _texts(adf)
        for mark in text.get("marks", ())
        if mark["type"] == "link"
    ]
    assert not any("acme-outlet" in href for href in hrefs)


def test_defanging_off_keeps_the_site_as_code_not_a_link() -> None:
    adf = render_adf(
        build_description(
            accepted(DETECTION), workspace_name="SOC", content=TicketContent(defang=False)
        )
    )
    [url] = [t for t in _texts(adf) if t["text"] == "https://acme-outlet.example/sale?id=1"]
    assert url["marks"] == [{"type": "code"}]


def test_the_draft_labels_the_infringement() -> None:
    draft = build_draft(accepted(DETECTION), workspace_name="SOC")
    assert "infringement-counterfeiting" in draft.labels
    assert "module-eclipse" in draft.labels


_hostile = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=300
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    brand=_hostile,
    url=_hostile,
    domain=_hostile,
    action=_hostile,
    ip=_hostile,
    screenshot=_hostile,
    confidence=st.one_of(st.floats(allow_nan=True), st.integers(-(2**70), 2**70)),
    infringement=st.sampled_from([*InfringementType, "Domain squatting", "x"]),
)
def test_hostile_detections_are_refused_or_render_valid_adf_without_live_links(
    brand: str,
    url: str,
    domain: str,
    action: str,
    ip: str,
    screenshot: str,
    confidence: float,
    infringement: str,
) -> None:
    record = json.loads(
        json.dumps(
            detection(
                brand=brand,
                url=url,
                domain=domain,
                recommended_action=action,
                ip=ip,
                screenshot_url=screenshot,
                confidence=confidence,
                infringement_type=infringement,
            )
        )
    )
    normalized = normalize_alert(record)
    if normalized.alert is None:
        assert all(r.field.startswith("brand_protection") for r in normalized.refusals)
        return
    adf = render_adf(build_description(normalized.alert, workspace_name="SOC"))
    assert VALIDATOR.is_valid(adf), list(VALIDATOR.iter_errors(adf))[:1]
    detected = normalized.alert.brand_protection
    assert detected is not None
    links = [
        mark["attrs"]["href"]
        for text in _texts(adf)
        for mark in text.get("marks", ())
        if mark["type"] == "link"
    ]
    # The service's own screenshot is the only link: the suspicious site never is.
    assert set(links) <= {str(detected.screenshot_url)}
