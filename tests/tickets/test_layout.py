"""The ticket description layout: sections, facts, ATT&CK, observables, evidence, link."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema_rs
import pytest

from sentineliq.alerts.model import Alert, Severity, Tlp
from sentineliq.document.adf import render_adf
from sentineliq.document.model import (
    Block,
    BulletList,
    Document,
    HardBreak,
    Heading,
    Inline,
    Panel,
    Paragraph,
    Table,
    TableCell,
    Text,
)
from sentineliq.document.schema import adf_schema
from sentineliq.lifecycle.fingerprint import fingerprint_of
from sentineliq.mitre import AttackCatalog, Tactic, Technique, attack_url
from sentineliq.tickets.layout import build_description, human_size, iso_utc, tlp_label

VALIDATOR = jsonschema_rs.Draft4Validator(adf_schema())


def alert(**fields: Any) -> Alert:
    record: dict[str, Any] = {
        "title": "Suspicious PowerShell",
        "severity": "medium",
        "source": "EDR",
        "detected_at": "2026-11-27T09:30:00+01:00",
    }
    record.update(fields)
    return Alert.model_validate_json(json.dumps(record))


FULL = {
    "description": "First paragraph\nsecond line\n\n  \n\nSecond paragraph",
    "severity": "critical",
    "status": "investigating",
    "category": "Execution",
    "threat_score": 87,
    "external_id": "EDR-42",
    "link": "https://aegis.example/alerts/42",
    "module": "aegis",
    "mitre": ["T1059.001", "TA0005", "T1562.001", "T9999", "T1059.001"],
    "observables": [
        {"type": "ip", "value": "203.0.113.7"},
        {"type": "hash_sha256", "value": "a" * 64, "tlp": "amber+strict"},
        {"type": "domain", "value": "evil.example", "tlp": "white"},
    ],
    "affected_assets": ["host-1", "host-2"],
    "evidence": [
        {
            "name": "mail.eml",
            "type": "email",
            "size_bytes": 1_572_864,
            "hashes": {"md5": "b" * 32, "sha1": "c" * 40, "sha256": "d" * 64},
            "location": "s3://evidence/mail.eml",
            "collected_at": "2026-11-27T08:00:00Z",
            "collected_by": "analyst@soc",
            "custody": [
                {"action": "stored", "actor": "vault", "at": "2026-11-27T10:00:00Z"},
                {
                    "action": "collected",
                    "actor": "analyst@soc",
                    "at": "2026-11-27T09:00:00+02:00",
                    "location": "laptop",
                    "notes": "line 1\nline 2",
                },
                {"action": "analyzed", "actor": "sandbox", "at": "2026-11-27T09:00:00Z"},
            ],
        },
        {"name": "bare", "type": "other"},
    ],
}


def walk(blocks: tuple[Block, ...]) -> list[Block]:
    found: list[Block] = []
    for block in blocks:
        found.append(block)
        if isinstance(block, Table):
            for row in block.rows:
                for cell in row.cells:
                    found += walk(cell.blocks)
        elif isinstance(block, BulletList):
            for item in block.items:
                found += walk(item.blocks)
        elif isinstance(block, Panel):
            found += walk(block.blocks)
    return found


def plain(inlines: tuple[Inline, ...]) -> str:
    return "".join("\n" if isinstance(i, HardBreak) else i.text for i in inlines)


def cell_text(cell: TableCell) -> str:
    return "\n".join(plain(b.content) for b in cell.blocks if isinstance(b, Paragraph))


def headings(doc: Document) -> list[tuple[int, str]]:
    return [(b.level, plain(b.content)) for b in doc.blocks if isinstance(b, Heading)]


def section(doc: Document, title: str) -> list[Block]:
    """The top-level blocks after the level-2 heading `title`, up to the next level-2 heading."""
    blocks = list(doc.blocks)
    start = next(
        i
        for i, b in enumerate(blocks)
        if isinstance(b, Heading) and b.level == 2 and plain(b.content) == title
    )
    out: list[Block] = []
    for block in blocks[start + 1 :]:
        if isinstance(block, Heading) and block.level == 2:
            break
        out.append(block)
    return out


def table_rows(table: Block) -> list[list[str]]:
    assert isinstance(table, Table)
    return [[cell_text(cell) for cell in row.cells] for row in table.rows]


def facts(doc: Document) -> dict[str, str]:
    table = next(b for b in doc.blocks if isinstance(b, Table))
    assert all(row.cells[0].header and not row.cells[1].header for row in table.rows)
    return dict(table_rows(table))


def texts(blocks: list[Block]) -> list[Text]:
    found: list[Text] = []
    for block in walk(tuple(blocks)):
        if isinstance(block, Paragraph | Heading):
            found += [i for i in block.content if isinstance(i, Text)]
    return found


def assert_renders_valid(doc: Document) -> None:
    adf = render_adf(doc)
    assert VALIDATOR.is_valid(adf)


def test_full_alert_has_every_section_in_order() -> None:
    doc = build_description(alert(**FULL), workspace_name="Acme SOC")
    assert headings(doc) == [
        (2, "Alert"),
        (2, "Affected assets"),
        (2, "MITRE ATT&CK"),
        (2, "Observables"),
        (2, "Evidence"),
        (3, "mail.eml"),
        (3, "bare"),
        (2, "Link to alert"),
    ]
    assert_renders_valid(doc)


def test_facts_table() -> None:
    doc = build_description(alert(**FULL), workspace_name="Acme SOC")
    assert facts(doc) == {
        "Severity": "Critical",
        "Status": "Investigating",
        "Source": "EDR",
        "Category": "Execution",
        "Threat score": "87 / 100",
        "Detected at": "2026-11-27T08:30:00Z",
        "Workspace": "Acme SOC",
        "Module": "Aegis — security alert",
        "External id": "EDR-42",
        "Fingerprint": fingerprint_of(alert(**FULL)),
        "Alert link": "https://aegis.example/alerts/42",
    }
    table = next(b for b in doc.blocks if isinstance(b, Table))
    fingerprint = table.rows[9].cells[1].blocks[0]
    assert isinstance(fingerprint, Paragraph)
    assert fingerprint.content == (Text(fingerprint_of(alert(**FULL)), code=True),)
    link = table.rows[10].cells[1].blocks[0]
    assert isinstance(link, Paragraph)
    assert link.content[0] == Text(
        "https://aegis.example/alerts/42", href="https://aegis.example/alerts/42"
    )


def test_minimal_alert_omits_absent_facts_and_empty_sections() -> None:
    minimal = alert(module="eclipse")
    doc = build_description(minimal, workspace_name="  ")
    assert facts(doc) == {
        "Severity": "Medium",
        "Status": "New",
        "Source": "EDR",
        "Detected at": "2026-11-27T08:30:00Z",
        "Module": "Eclipse — brand-protection detection",
        "Fingerprint": fingerprint_of(minimal),
    }
    assert headings(doc) == [(2, "Alert"), (2, "Link to alert")]
    assert section(doc, "Alert")[1] == Paragraph((Text("No description provided.", em=True),))
    assert section(doc, "Link to alert") == [
        Paragraph((Text("No link to the alert was provided.", em=True),))
    ]
    assert_renders_valid(doc)


def test_given_fingerprint_is_shown() -> None:
    doc = build_description(alert(fingerprint="fp-1"), workspace_name="w")
    assert facts(doc)["Fingerprint"] == "fp-1"


@pytest.mark.parametrize(
    ("severity", "panel_kind"),
    [("critical", "error"), ("high", "warning"), ("medium", None), ("low", None), ("info", None)],
)
def test_severe_alerts_open_with_a_panel(severity: str, panel_kind: str | None) -> None:
    first = build_description(alert(severity=severity), workspace_name="w").blocks[0]
    if panel_kind is None:
        assert isinstance(first, Table)
    else:
        assert isinstance(first, Panel)
        assert first.kind == panel_kind
        assert Severity(severity).value.capitalize() in plain(first.blocks[0].content)  # type: ignore[union-attr]


def test_alert_text_is_title_then_paragraphs_split_on_blank_lines() -> None:
    doc = build_description(alert(**FULL), workspace_name="w")
    assert section(doc, "Alert") == [
        Paragraph((Text("Suspicious PowerShell", strong=True),)),
        Paragraph((Text("First paragraph\nsecond line"),)),
        Paragraph((Text("Second paragraph"),)),
    ]


def test_whitespace_only_description_counts_as_none() -> None:
    doc = build_description(alert(description=" \n\n\t\r\n"), workspace_name="w")
    assert section(doc, "Alert")[1] == Paragraph((Text("No description provided.", em=True),))


def test_hostile_text_stays_text() -> None:
    hostile = "h1. *bold* {code} <script>alert(1)</script> ## x [a|javascript:b] {{m}}"
    doc = build_description(
        alert(title=hostile, description=hostile, source=hostile, affected_assets=[hostile]),
        workspace_name=hostile,
    )
    found = [t for t in texts(list(doc.blocks)) if hostile in t.text]
    assert len(found) == 5  # title, description, source, workspace, asset
    assert all(t.href is None and not t.code for t in found)
    adf = render_adf(doc)
    assert VALIDATOR.is_valid(adf)
    assert json.dumps(adf).count("javascript") == 5  # only ever inside text


def test_mitre_table() -> None:
    doc = build_description(alert(**FULL), workspace_name="w")
    table = section(doc, "MITRE ATT&CK")[0]
    rows = table_rows(table)
    assert rows[0] == ["ID", "Technique", "Tactics"]
    assert rows[1] == ["T1059.001", "PowerShell", "Execution (TA0002)"]
    assert rows[2][0] == "TA0005"
    assert rows[2][1].startswith("Stealth (tactic) — Named “Defense Evasion” before ATT&CK v19")
    assert "TA0112 Defense Impairment" in rows[2][1]
    assert rows[3] == [
        "T1562.001",
        "Disable or Modify Tools — legacy ID, not in ATT&CK v19; same name now: T1685",
        "Defense Evasion (TA0005)",
    ]
    assert rows[4] == ["T9999", "unknown to ATT&CK v19", "—"]
    assert len(rows) == 5  # the repeated T1059.001 is listed once
    assert isinstance(table, Table)
    id_cell = table.rows[1].cells[0].blocks[0]
    assert isinstance(id_cell, Paragraph)
    assert id_cell.content == (
        Text("T1059.001", href="https://attack.mitre.org/techniques/T1059/001/"),
    )
    successor = table.rows[3].cells[1].blocks[0]
    assert isinstance(successor, Paragraph)
    assert successor.content[-1] == Text("T1685", href=attack_url("T1685"))


def test_unknown_tactic_row() -> None:
    doc = build_description(alert(mitre=["TA0099"]), workspace_name="w")
    rows = table_rows(section(doc, "MITRE ATT&CK")[0])
    assert rows[1] == ["TA0099", "Tactic — unknown to ATT&CK v19", "—"]


def test_a_given_catalog_is_used() -> None:
    execution = Tactic("TA0002", "Execution", attack_url("TA0002"))
    catalog = AttackCatalog(
        version="custom",
        release="v99",
        tactics=[execution],
        techniques=[Technique("T1059", "Custom name", attack_url("T1059"), (execution,), None)],
    )
    doc = build_description(alert(mitre=["T1059", "T1078"]), workspace_name="w", catalog=catalog)
    rows = table_rows(section(doc, "MITRE ATT&CK")[0])
    assert rows[1] == ["T1059", "Custom name", "Execution (TA0002)"]
    assert rows[2] == ["T1078", "unknown to ATT&CK v99", "—"]


def test_observables_table() -> None:
    doc = build_description(alert(**FULL), workspace_name="w")
    table = section(doc, "Observables")[0]
    assert table_rows(table) == [
        ["Type", "Value", "TLP"],
        ["IP address", "203[.]0[.]113[.]7", "TLP:AMBER"],  # defanged by default
        ["SHA-256", "a" * 64, "TLP:AMBER+STRICT"],
        ["Domain", "evil[.]example", "TLP:CLEAR"],
    ]
    assert isinstance(table, Table)
    value = table.rows[1].cells[1].blocks[0]
    assert isinstance(value, Paragraph)
    assert value.content == (Text("203[.]0[.]113[.]7", code=True),)


def test_affected_assets_list() -> None:
    doc = build_description(alert(**FULL), workspace_name="w")
    (assets,) = section(doc, "Affected assets")
    assert isinstance(assets, BulletList)
    assert [plain(item.blocks[0].content) for item in assets.items] == ["host-1", "host-2"]  # type: ignore[union-attr]


def test_evidence_details_hashes_and_custody_in_time_order() -> None:
    doc = build_description(alert(**FULL), workspace_name="w")
    blocks = section(doc, "Evidence")
    assert blocks[0] == Heading(3, (Text("mail.eml"),))
    assert table_rows(blocks[1]) == [
        ["Type", "Email"],
        ["Size", "1.5 MiB (1,572,864 bytes)"],
        ["Location", "s3://evidence/mail.eml"],
        ["Collected at", "2026-11-27T08:00:00Z"],
        ["Collected by", "analyst@soc"],
        ["MD5", "b" * 32],
        ["SHA-1", "c" * 40],
        ["SHA-256", "d" * 64],
    ]
    assert isinstance(blocks[1], Table)
    for row in blocks[1].rows[5:]:
        digest = row.cells[1].blocks[0]
        assert isinstance(digest, Paragraph)
        assert isinstance(digest.content[0], Text)
        assert digest.content[0].code
    assert blocks[2] == Paragraph((Text("Chain of custody", strong=True),))
    assert table_rows(blocks[3]) == [
        ["#", "Action", "Actor", "At", "Location", "Notes"],
        ["1", "Collected", "analyst@soc", "2026-11-27T07:00:00Z", "laptop", "line 1\nline 2"],
        ["2", "Analyzed", "sandbox", "2026-11-27T09:00:00Z", "—", "—"],
        ["3", "Stored", "vault", "2026-11-27T10:00:00Z", "—", "—"],
    ]
    # An item with nothing but its type still gets its heading and a one-row table.
    assert blocks[4] == Heading(3, (Text("bare"),))
    assert table_rows(blocks[5]) == [["Type", "Other"]]
    assert len(blocks) == 6


def test_custody_entries_at_the_same_instant_keep_source_order() -> None:
    at = "2026-11-27T10:00:00Z"
    entries = [{"action": a, "actor": a, "at": at} for a in ("stored", "accessed", "preserved")]
    doc = build_description(
        alert(evidence=[{"name": "e", "type": "log", "custody": entries}]), workspace_name="w"
    )
    rows = table_rows(section(doc, "Evidence")[3])
    assert [row[2] for row in rows[1:]] == ["stored", "accessed", "preserved"]


def test_link_section() -> None:
    doc = build_description(alert(**FULL), workspace_name="w")
    url = "https://aegis.example/alerts/42"
    assert section(doc, "Link to alert") == [Paragraph((Text(url, href=url),))]
    assert isinstance(doc.blocks[-1], Paragraph)


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1,023 bytes"),
        (1024, "1.0 KiB (1,024 bytes)"),
        (1_572_864, "1.5 MiB (1,572,864 bytes)"),
        (5 * 1024**4, "5.0 TiB (5,497,558,138,880 bytes)"),
        (2**70, "1,024.0 EiB (1,180,591,620,717,411,303,424 bytes)"),
    ],
)
def test_human_size(size: int, text: str) -> None:
    assert human_size(size) == text


def test_iso_utc() -> None:
    moment = datetime(2026, 11, 27, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    assert iso_utc(moment) == "2026-11-27T08:30:00Z"
    assert iso_utc(datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=UTC)) == "2026-01-01T00:00:00.000005Z"
    # Converting would overflow the calendar: keep the source's offset rather than fail.
    edge = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5)))
    assert iso_utc(edge) == "0001-01-01T00:00:00+05:00"


@pytest.mark.parametrize(
    ("tlp", "label"),
    [(Tlp.CLEAR, "TLP:CLEAR"), (Tlp.AMBER_STRICT, "TLP:AMBER+STRICT"), (Tlp.RED, "TLP:RED")],
)
def test_tlp_label(tlp: Tlp, label: str) -> None:
    assert tlp_label(tlp) == label


def test_oversized_alert_keeps_facts_sections_and_link() -> None:
    big = alert(**{**FULL, "description": "Lorem ipsum dolor sit amet. " * 4000})
    doc = build_description(big, workspace_name="w")
    adf = render_adf(doc, full_content_url="https://aegis.example/alerts/42")
    assert VALIDATOR.is_valid(adf)
    assert len(json.dumps(adf, ensure_ascii=False, separators=(",", ":"))) <= 32_767
    top = [block["type"] for block in adf["content"]]
    # Severity panel, then every fact, as aligned lines: tables become lines under pressure.
    assert top[:2] == ["panel", "codeBlock"]
    fact_lines = adf["content"][1]["content"][0]["text"].split("\n")
    assert [line.split("  ")[0] for line in fact_lines] == list(facts(doc))
    assert fact_lines[0] == "Severity      Critical"
    headings_left = [b["content"][0]["text"] for b in adf["content"] if b["type"] == "heading"]
    assert headings_left == [h for _, h in headings(doc)]  # only the long text was shortened
    note = adf["content"][-1]
    assert note["attrs"] == {"panelType": "note"}
    assert "https://aegis.example/alerts/42" in json.dumps(note)
