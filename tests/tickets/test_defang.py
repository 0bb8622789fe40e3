"""Defanged indicators: never a live link, in the text or in the ADF; only addresses defanged."""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sentineliq.alerts.model import Alert, ObservableType
from sentineliq.document.adf import render_adf
from sentineliq.document.model import Text
from sentineliq.document.schema import adf_schema
from sentineliq.tickets.build import build_draft
from sentineliq.tickets.content import TicketContent
from sentineliq.tickets.defang import defang, fang
from sentineliq.tickets.indicators import indicator

VALIDATOR = jsonschema_rs.Draft4Validator(adf_schema())
# What a linkifier (Jira's editor, a mail client, a chat paste) turns into a link: a scheme with
# :// (hxxp is none), mailto:, or a host name: labels joined by any of the dots IDNA accepts.
LIVE_LINK = re.compile(
    r"(?i)(?:\b(?!hxxps?://)[a-z][a-z0-9+.-]*://|\bmailto:|\bwww\.|[\w-][.\u3002\uff0e\uff61][\w-])"
)
# Small: CI runs under load; these finish in a second or two.
PROFILE = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
HOSTILE = st.one_of(
    st.text(max_size=200),
    st.text(
        alphabet=st.sampled_from("h t p s : / . @ [ ] ( ) x e v i l 。．｡ ＠ \n\t<>&\"'"),
        max_size=120,
    ),
    st.builds(
        "".join,
        st.lists(
            st.sampled_from(
                [
                    "https://",
                    "HTTP://",
                    "ftp://",
                    "hxxps://",
                    "javascript:",
                    "mailto:",
                    "evil",
                    "example",
                    ".",
                    "。",
                    "[.]",
                    "@",
                    "user:pw@",
                    "10.0.0.1",
                    "[x](https://a.b)",
                    "<a href='https://a.b'>",
                    "www",
                    "xn--80ak6aa92e",
                    "\u202e",
                    "👩‍💻",
                    "/path?q=1#f",
                ]
            ),
            max_size=12,
        ),
    ),
)


def walk(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.append(node)
        for child in node.get("content", []):
            found += walk(child)
    return found


def alert(**fields: Any) -> Alert:
    record: dict[str, Any] = {
        "title": "Phishing kit hosted",
        "severity": "high",
        "source": "Mail gateway",
        "detected_at": "2026-12-01T10:00:00Z",
    }
    record.update(fields)
    return Alert.model_validate_json(json.dumps(record))


@pytest.mark.parametrize(
    ("live", "defanged"),
    [
        ("https://evil.example/login.php?u=1", "hxxps://evil[.]example/login[.]php?u=1"),
        ("http://203.0.113.7:8080/", "hxxp://203[.]0[.]113[.]7:8080/"),
        ("evil.example", "evil[.]example"),
        ("198.51.100.23", "198[.]51[.]100[.]23"),
        ("ceo@evil-corp.example", "ceo(at)evil-corp[.]example"),
        ("ftp://files.evil.example/x", "ftp[:]//files[.]evil[.]example/x"),
        ("HTTPS://EVIL.EXAMPLE", "hxxpS://EVIL[.]EXAMPLE"),
        ("evil\u3002example", "evil[.]example"),  # an ideographic full stop is a dot to IDNA
        ("hxxps://evil[.]example", "hxxps://evil[.]example"),  # already defanged: unchanged
    ],
)
def test_defang_writes_the_conventional_form(live: str, defanged: str) -> None:
    assert defang(live) == defanged
    assert not LIVE_LINK.search(defanged)


@pytest.mark.parametrize(
    "live",
    ["https://evil.example/a.b?c=d.e", "http://203.0.113.7/", "a.b.evil.example", "x@evil.example"],
)
def test_analysts_tools_fang_it_back(live: str) -> None:
    assert fang(defang(live)) == live


def test_only_address_observables_are_defanged() -> None:
    content = TicketContent()
    assert indicator("evil.example", content, ObservableType.DOMAIN) == Text(
        "evil[.]example", code=True
    )
    assert indicator("evil.example", content) == Text("evil[.]example", code=True)  # a brand field
    for kind, value in [
        (ObservableType.FILE, "invoice.pdf.exe"),
        (ObservableType.REGISTRY, r"HKCU\Software\evil.run"),
        (ObservableType.USER_AGENT, "Mozilla/5.0 (evil.bot)"),
        (ObservableType.HASH_MD5, "d41d8cd98f00b204e9800998ecf8427e"),
    ]:
        assert indicator(value, content, kind) == Text(value, code=True)


def test_defanging_can_be_turned_off_but_an_indicator_is_still_no_link() -> None:
    assert indicator("https://evil.example", TicketContent(defang=False), ObservableType.URL) == (
        Text("https://evil.example", code=True)
    )


def _observables() -> list[dict[str, str]]:
    return [
        {"type": "url", "value": "https://evil.example/login"},
        {"type": "domain", "value": "evil.example"},
        {"type": "ip", "value": "203.0.113.7"},
        {"type": "email", "value": "ceo@evil-corp.example"},
        {"type": "file", "value": "invoice.pdf.exe"},
    ]


@pytest.mark.parametrize("defang_on", [True, False])
def test_no_indicator_becomes_a_link_in_the_adf(defang_on: bool) -> None:
    source = alert(
        observables=_observables(),
        link="https://aegis.example/alerts/7",
        evidence=[
            {
                "name": "mail.eml",
                "type": "email",
                "custody": [
                    {"action": "collected", "actor": "analyst.kim", "at": "2026-12-01T10:00:00Z"}
                ],
            }
        ],
    )
    draft = build_draft(source, workspace_name="SOC", content=TicketContent(defang=defang_on))
    adf = render_adf(draft.document)
    assert VALIDATOR.is_valid(adf)
    nodes = walk(adf)
    assert not [n for n in nodes if n["type"] in ("inlineCard", "blockCard", "embedCard")]
    hrefs = [
        mark["attrs"]["href"]
        for n in nodes
        for mark in n.get("marks", [])
        if mark["type"] == "link"
    ]
    # The only links: the way back to the alert (facts table and the end).
    assert set(hrefs) == {"https://aegis.example/alerts/7"}
    texts = [n["text"] for n in nodes if n["type"] == "text"]
    if defang_on:
        for shown in ("hxxps://evil[.]example/login", "evil[.]example", "203[.]0[.]113[.]7"):
            assert shown in texts
        assert "ceo(at)evil-corp[.]example" in texts
    assert "invoice.pdf.exe" in texts  # a file name is not an address
    assert "analyst.kim" in texts  # nor is a custody actor


@PROFILE
@given(value=HOSTILE)
def test_defanged_hostile_text_never_holds_a_live_link(value: str) -> None:
    defanged = defang(value)
    assert not LIVE_LINK.search(defanged), defanged
    assert defang(defanged) == defanged  # stable: defanging twice changes nothing


@PROFILE
@given(values=st.lists(HOSTILE.filter(lambda v: v.strip()), min_size=1, max_size=4))
def test_hostile_indicators_render_as_valid_adf_without_links(values: list[str]) -> None:
    kinds = ["url", "domain", "ip", "email"]
    observables = [{"type": kinds[n % 4], "value": value[:8192]} for n, value in enumerate(values)]
    try:
        source = alert(observables=observables)
    except ValueError:
        return  # text the alert format refuses (e.g. only whitespace) never reaches a ticket
    adf = render_adf(build_draft(source, workspace_name="SOC").document)
    assert VALIDATOR.is_valid(adf), adf
    nodes = walk(adf)
    assert not [n for n in nodes if n["type"] == "inlineCard"]
    assert not [m for n in nodes for m in n.get("marks", []) if m["type"] == "link"]
    for node in nodes:
        if node["type"] == "text" and any(m["type"] == "code" for m in node.get("marks", [])):
            assert not LIVE_LINK.search(node["text"]), node["text"]
