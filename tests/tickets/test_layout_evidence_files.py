"""Uploaded evidence files in the ticket's evidence section: each with its size, who uploaded it,
its MD5/SHA-1/SHA-256 (as code) and its chain of custody's status; valid against Atlassian's ADF
schema, with or without the alert's own evidence, and their names redacted like all text."""

from __future__ import annotations

from datetime import UTC, datetime

import jsonschema_rs
from test_layout import FULL, alert, plain, section, walk

from sentineliq.alerts.custody import CustodyCheck, CustodyLine
from sentineliq.alerts.files import EvidenceFile
from sentineliq.document.adf import render_adf
from sentineliq.document.model import Heading, Paragraph, Table, Text
from sentineliq.document.schema import adf_schema
from sentineliq.tickets.build import build_draft
from sentineliq.tickets.content import TicketContent
from sentineliq.tickets.layout import build_description

AT = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
FILE = EvidenceFile(
    id="f1",
    workspace_id="w",
    alert_id="a",
    evidence_id="ev-file",
    file_name="beacon.pcap",
    content_type="application/vnd.tcpdump.pcap",
    size_bytes=2048,
    md5="9" * 32,
    sha1="8" * 40,
    sha256="7" * 64,
    storage_key="sha256/77/" + "7" * 64,
    created_at=AT,
    uploaded_by="analyst@soc.test",
)
CHECK = CustodyCheck(
    evidence_id="ev-file",
    alert_id="a",
    evidence_index=3,
    name="beacon.pcap",
    lines=(CustodyLine(1, "collected", "analyst@soc.test", AT, "SentinelIQ evidence store", None),),
    ok=True,
    broken_entry=None,
    problem="intact",
    checked_at=AT,
)


def _codes(blocks: tuple[object, ...]) -> list[str]:
    out = []
    for block in walk(blocks):
        if isinstance(block, Paragraph):
            out += [i.text for i in block.content if isinstance(i, Text) and i.code]
    return out


def test_files_are_listed_with_their_hashes_and_custody() -> None:
    for fields in (FULL, {}):  # with and without the alert's own evidence
        doc = build_description(
            alert(**fields), workspace_name="SOC", custody=[CHECK], files=[FILE]
        )
        blocks = tuple(section(doc, "Evidence"))
        headings = [plain(b.content) for b in walk(blocks) if isinstance(b, Heading)]
        assert "beacon.pcap" in headings
        assert {"9" * 32, "8" * 40, "7" * 64} <= set(_codes(blocks))
        texts = [plain(b.content) for b in walk(blocks) if isinstance(b, Paragraph)]
        assert "2 KiB (2,048 bytes)" in texts or any("2,048 bytes" in t for t in texts)
        assert "Chain of custody verified at 2026-12-04T06:00:00Z" in texts
        assert any(isinstance(b, Table) for b in blocks)
        jsonschema_rs.Draft4Validator(adf_schema()).validate(render_adf(doc))


def test_no_files_no_change() -> None:
    assert build_description(alert(), workspace_name="SOC") == build_description(
        alert(), workspace_name="SOC", files=()
    )


def test_a_files_name_is_redacted_in_the_ticket() -> None:
    secret = FILE.__class__(**{**FILE.__dict__, "file_name": "keys-AKIAIOSFODNN7EXAMPLE.txt"})
    draft = build_draft(alert(), workspace_name="SOC", content=TicketContent(), files=[secret])
    rendered = str(render_adf(draft.document))
    assert "AKIAIOSFODNN7EXAMPLE" not in rendered
    assert "keys-" in rendered
