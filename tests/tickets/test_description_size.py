"""How much of an alert fits in Jira's 32,767-character description, measured on the wire form.

"Visible" characters are the note's unit: text without whitespace. Each test records its figures
(visible characters, serialised size, their ratio) in pytest's terminal summary.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from importlib.resources import files
from itertools import cycle
from typing import Any

import jsonschema_rs
import pytest

from sentineliq.alerts.model import Alert
from sentineliq.document.adf import DEFAULT_MAX_CHARS, TRUNCATION_NOTE_PREFIX, adf_size, render_adf
from sentineliq.document.schema import adf_schema
from sentineliq.sandbox.jira.adf import adf_problem
from sentineliq.sandbox.jira.browse import render_adf as browse_html
from sentineliq.tickets.layout import build_description

Node = dict[str, Any]
Report = Callable[[str], None]
VALIDATOR = jsonschema_rs.Draft4Validator(adf_schema())
SAMPLES: list[dict[str, Any]] = json.loads(
    files("sentineliq.demo").joinpath("samples.json").read_text("utf-8")
)
SENTENCES = (
    "The beacon from FIN-LT-0142 reached the staging host every sixty seconds; analysts saw "
    "credential dumping via lsass, lateral movement over SMB and a scheduled task named "
    "OneDriveUpdate that re-launched the loader after each reboot."
)
WORDS = SENTENCES.split(" ")


def walk(nodes: list[Node]) -> list[Node]:
    found: list[Node] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.get("content", ()))
    return found


def visible(adf: Node) -> int:
    """Visible characters of the document's own text (no note, no "… and N more" lines)."""
    content = adf["content"]
    if content and TRUNCATION_NOTE_PREFIX in json.dumps(content[-1], ensure_ascii=False):
        content = content[:-1]
    texts = [n["text"] for n in walk(content) if n["type"] == "text"]
    return sum(len("".join(t.split())) for t in texts if not t.startswith("… and "))


def description_shown(adf: Node) -> int:
    """Characters of the alert's description shown, whitespace included (a line break counts
    one, a paragraph break none, as paragraph nodes or as a blank line in merged prose): the
    paragraphs after the title in the "Alert" section."""
    blocks = adf["content"]
    start = next(i for i, b in enumerate(blocks) if b["type"] == "heading") + 2
    end = next(i for i, b in enumerate(blocks) if i >= start and b["type"] != "paragraph")
    nodes = walk(blocks[start:end])
    return sum(len(n["text"].replace("\n\n", "")) for n in nodes if n["type"] == "text") + sum(
        n["type"] == "hardBreak" for n in nodes
    )


def prose(total: int, lengths: tuple[int, ...]) -> str:
    """`total` characters of plain sentences in paragraphs of about the given lengths, in turn."""
    words = cycle(WORDS)
    paragraphs: list[str] = []
    size = 0
    for length in cycle(lengths):
        paragraph = ""
        while len(paragraph) < length:
            paragraph += next(words) + " "
        paragraphs.append(paragraph.strip())
        size += len(paragraph) + 1
        if size >= total:
            return "\n\n".join(paragraphs)[:total].strip()
    raise AssertionError("unreachable")


def alert(**fields: Any) -> Alert:
    record = {**SAMPLES[0], "observables": [], "evidence": [], "affected_assets": [], "mitre": []}
    record.update(fields)
    return Alert.model_validate_json(json.dumps(record))


def observables(count: int) -> list[dict[str, str]]:
    half = count // 2
    ips = [
        {"type": "ip", "value": f"203.0.{n // 256}.{n % 256}", "tlp": "amber"} for n in range(half)
    ]
    domains = [{"type": "domain", "value": f"c2-{n}.evil.example"} for n in range(count - half)]
    return ips + domains


def render(source: Alert, max_chars: int = DEFAULT_MAX_CHARS) -> tuple[Node, Node]:
    """The description as sent within `max_chars`, and as it would be without a limit."""
    doc = build_description(source, workspace_name="Acme SOC")
    adf = render_adf(doc, max_chars=max_chars, full_content_url=str(source.link))
    assert VALIDATOR.is_valid(adf)
    assert adf_size(adf) <= max_chars
    assert adf_problem(adf) is None  # what the sandbox (like Jira) accepts as a description
    return adf, render_adf(doc, max_chars=sys.maxsize)


def figures(name: str, adf: Node, full: Node) -> str:
    shown, total, size = visible(adf), visible(full), adf_size(adf)
    return (
        f"{name}: {shown:,} of {total:,} visible characters ({shown / total:.0%}) "
        f"in {size:,} serialised, ratio {shown / size:.3f} (unlimited {total / adf_size(full):.3f})"
    )


@pytest.mark.parametrize("index", range(len(SAMPLES)))
def test_demo_alert_fits_whole_and_keeps_most_of_its_text_when_squeezed(
    index: int, size_report: Report
) -> None:
    source = Alert.model_validate_json(json.dumps(SAMPLES[index]))
    adf, full = render(source)
    assert adf == full  # every demo alert fits as it is, tables and all
    size_report(figures(f"demo {index}", adf, full))
    # Squeezed into 4,000 characters (a third of the largest), tables become aligned lines and
    # most of the text survives; before, the facts table alone used most of the room.
    squeezed, _ = render(source, 4000)
    size_report(figures(f"demo {index} in 4,000", squeezed, full))
    assert visible(squeezed) >= 0.75 * visible(full)
    assert visible(squeezed) / adf_size(squeezed) >= 0.33


@pytest.mark.parametrize(
    ("name", "lengths"),
    [
        ("prose, 200-character paragraphs", (200,)),
        ("prose, 500-character paragraphs", (500,)),
        ("prose, 2,500-character paragraphs", (2500,)),
        ("prose, 200-800-character paragraphs", (200, 500, 800)),
    ],
)
def test_prose_heavy_alert_keeps_most_of_its_text(
    name: str, lengths: tuple[int, ...], size_report: Report
) -> None:
    description = prose(50_000, lengths)
    adf, full = render(alert(description=description))
    kept = description_shown(adf)
    size_report(f"{figures(name, adf, full)}; description {kept:,} of {len(description):,}")
    # Characters as the alert has them, spaces included; a paragraph break is not shown.
    assert description_shown(full) == len(description) - 2 * description.count("\n\n")
    # A paragraph node costs about 60 characters of JSON: as nodes, 200-character paragraphs
    # kept about 47 % and 500-character ones 56 %. Merged into one text with blank lines
    # (4 characters a break), prose keeps at least 60 % however it is split.
    assert kept >= 0.60 * len(description)
    assert visible(adf) >= 0.60 * visible(full)
    # Readable: the prose is one text whose paragraphs are separated by a blank line.
    paragraphs = [n for n in adf["content"] if n["type"] == "paragraph"]
    (merged,) = [
        p["content"][0]["text"] for p in paragraphs if len(p["content"][0]["text"]) > 20_000
    ]
    assert description.startswith(merged[:-1])
    assert merged.count("\n\n") >= 30_000 // (max(lengths) + 2) - 1


@pytest.mark.parametrize(
    ("name", "description"),
    [
        ("one 45,000-character paragraph", prose(45_000, (45_000,))),
        ("45,000 characters of lines", prose(45_000, (500,)).replace("\n\n", "\n")),
        ("45,000 characters of paragraphs", prose(45_000, (500,))),
    ],
)
def test_large_alert_with_300_observables_keeps_text_and_every_section(
    name: str, description: str, size_report: Report
) -> None:
    source = alert(
        description=description,
        observables=observables(300),
        affected_assets=[f"FIN-LT-{n:04}" for n in range(80)],
        mitre=SAMPLES[0]["mitre"],
        evidence=SAMPLES[0]["evidence"],
    )
    adf, full = render(source)
    size_report(figures(f"300 observables, {name}", adf, full))
    # Before: one long text shrank to 2,000 characters behind a 300-row table (about 4,300
    # visible characters in all), or the text crowded out every section after it.
    assert visible(adf) >= 0.38 * visible(full)
    headings = [n["content"][0]["text"] for n in adf["content"] if n["type"] == "heading"]
    assert headings[:4] == ["Alert", "Affected assets", "MITRE ATT&CK", "Observables"]
    assert headings[-1] == "Link to alert"
    texts = [n["text"] for n in walk(adf["content"]) if n["type"] == "text"]
    assert "… and 200 more rows" in texts  # the first 100 observables (defanged), as aligned lines
    assert "… and 30 more" in texts  # the first 50 assets
    (observables_block,) = [
        n
        for n in adf["content"]
        if n["type"] == "codeBlock" and "203[.]0[.]0[.]0" in n["content"][0]["text"]
    ]
    lines = observables_block["content"][0]["text"].split("\n")
    assert lines[0].split() == ["Type", "Value", "TLP"]
    assert len(lines) == 101


def test_sandbox_browse_page_shows_the_compact_forms() -> None:
    source = alert(
        description="x" * 40_000,
        observables=observables(300),
        affected_assets=[f"<b>host-{n}</b>" for n in range(80)],
    )
    adf, _ = render(source)
    page = browse_html(adf)
    lines = re.search(r"<pre><code>(Type {2,}Value.*?)</code></pre>", page, re.DOTALL)
    assert lines is not None, page[:2000]
    assert lines[1].split("\n")[1] == "IP address  203[.]0[.]0[.]0   TLP:AMBER"
    assert "<em>… and 200 more rows</em>" in page
    assert "<em>… and 30 more</em>" in page
    assert "&lt;b&gt;host-0&lt;/b&gt;" in page
    assert "<b>host" not in page


def test_sandbox_browse_page_shows_merged_prose_as_paragraphs() -> None:
    # The page styles paragraphs like Jira's renderer (white-space: pre-wrap, see
    # tests/sandbox/test_jira_sandbox_browse.py), so a blank line in text shows as a break.
    adf, _ = render(alert(description=prose(50_000, (500,))))
    page = browse_html(adf)
    merged = re.search(r"<p>(The beacon[^<]{20000,})</p>", page)
    assert merged is not None
    assert merged[1].count("\n\n") > 50
