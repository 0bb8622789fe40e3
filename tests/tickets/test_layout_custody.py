"""The evidence section with verified chains: the stored entries in chain order, a line saying
when the chain was verified, or an error panel naming the broken entry; deleted evidence."""

from __future__ import annotations

from datetime import UTC, datetime

import jsonschema_rs
from test_layout import FULL, alert, plain, section, walk

from sentineliq.alerts.custody import CustodyCheck, CustodyLine
from sentineliq.document.adf import render_adf
from sentineliq.document.model import Heading, Panel, Paragraph, Table
from sentineliq.document.schema import adf_schema
from sentineliq.tickets.layout import build_description

CHECKED = datetime(2026, 12, 3, 16, 0, 5, tzinfo=UTC)
LINES = (
    CustodyLine(1, "collected", "analyst@soc", datetime(2026, 11, 27, 7, tzinfo=UTC), None, None),
    CustodyLine(2, "analyzed", "mallory", datetime(2026, 11, 27, 9, tzinfo=UTC), "lab", None),
)


def _check(index: int, *, ok: bool = True, lines: tuple[CustodyLine, ...] = LINES) -> CustodyCheck:
    return CustodyCheck(
        evidence_id=f"e{index}",
        alert_id="a",
        evidence_index=index,
        name="mail.eml",
        lines=lines,
        ok=ok,
        broken_entry=None if ok else 2,
        problem="intact" if ok else "custody entry #2 (analyzed by mallory) was altered",
        checked_at=CHECKED,
    )


def _texts(blocks: list[object]) -> list[str]:
    return [plain(b.content) for b in blocks if isinstance(b, Paragraph | Heading)]


def test_a_verified_chain_shows_the_stored_entries_and_the_time_it_was_checked() -> None:
    doc = build_description(
        alert(**FULL), workspace_name="SOC", custody=[_check(0), _check(1, lines=())]
    )
    blocks = section(doc, "Evidence")
    texts = _texts(walk(tuple(blocks)))
    assert texts.count("Chain of custody verified at 2026-12-03T16:00:05Z") == 2
    tables = [b for b in blocks if isinstance(b, Table)]
    custody = tables[1]  # after the first evidence's facts
    assert [plain(r.cells[2].blocks[0].content) for r in custody.rows[1:]] == [  # type: ignore[union-attr]
        "analyst@soc",
        "mallory",
    ]
    assert not [b for b in walk(tuple(blocks)) if isinstance(b, Panel)]
    jsonschema_rs.Draft4Validator(adf_schema()).validate(render_adf(doc))


def test_a_broken_chain_is_an_error_panel_naming_the_entry() -> None:
    doc = build_description(alert(**FULL), workspace_name="SOC", custody=[_check(0, ok=False)])
    [panel] = [b for b in walk(tuple(section(doc, "Evidence"))) if isinstance(b, Panel)]
    assert panel.kind == "error"
    assert _texts(list(panel.blocks)) == [
        "Chain of custody broken at entry #2",
        "custody entry #2 (analyzed by mallory) was altered (checked at 2026-12-03T16:00:05Z).",
    ]


def test_deleted_evidence_is_marked_in_its_heading() -> None:
    tombstone = CustodyLine(3, "deleted", "j.doe", CHECKED, None, "court order")
    doc = build_description(
        alert(**FULL), workspace_name="SOC", custody=[_check(0, lines=(*LINES, tombstone))]
    )
    assert "mail.eml (deleted)" in _texts(section(doc, "Evidence"))  # type: ignore[arg-type]


def test_evidence_whose_record_is_gone_says_so() -> None:
    gone = CustodyCheck("", "a", 0, "mail.eml", (), False, None, "evidence #1 ... removed", CHECKED)
    doc = build_description(alert(**FULL), workspace_name="SOC", custody=[gone])
    [panel] = [b for b in walk(tuple(section(doc, "Evidence"))) if isinstance(b, Panel)]
    assert _texts(list(panel.blocks))[0] == "Evidence record and chain of custody missing"
