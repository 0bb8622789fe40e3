"""Property tests: any document and any hostile alert render to valid, bounded ADF."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sentineliq.alerts.model import (
    Alert,
    AlertStatus,
    CustodyAction,
    CustodyEntry,
    Evidence,
    EvidenceHashes,
    EvidenceType,
    Module,
    Observable,
    ObservableType,
    Severity,
    Tlp,
)
from sentineliq.document.adf import (
    COMPACT_MAX_ROWS,
    DEFAULT_MAX_CHARS,
    LIST_MAX_ITEMS,
    TRUNCATION_NOTE_PREFIX,
    adf_size,
    render_adf,
    sanitize_text,
)
from sentineliq.document.model import (
    BulletList,
    CodeBlock,
    Document,
    HardBreak,
    Heading,
    ListItem,
    OrderedList,
    Panel,
    Paragraph,
    Rule,
    Table,
    TableCell,
    TableRow,
    Text,
)
from sentineliq.tickets.layout import build_description

Node = dict[str, Any]
AdfCheck = Callable[..., None]  # the assert_valid_adf fixture (conftest.py)
UNLIMITED = sys.maxsize
PROFILE = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text that looks like markup in some dialect, plus characters that break naive serialisers.
FRAGMENTS = [
    "h1. *bold* {code}",
    "<script>alert(1)</script>",
    "## x",
    "[click|javascript:alert(1)]",
    "{{mono}} {noformat}",
    "```\nrm -rf /\n```",
    '"quotes" \\back\\slash',
    "&lt;b&gt; &amp;",
    "| a | b |",
    "----",
    "${jndi:ldap://x}",
    "\u202eRTL override\u202c",
    "שלום مرحبا",
    "👩‍💻🏳️‍🌈😀",
    "e\u0301",
    "\u200b\u200d\ufeff",
    "\x00",
    "\x1b[31m",
    "\r\n",
    "\n\n",
    "\t",
    "\x85\u2028\u2029",
    "\ufffe\uffff",
    "\x7f\x9f",
]
SURROGATES = ["\ud800", "\udfff", "\ud83d"]  # lone, as json.loads can produce them


def hostile_text(*, surrogates: bool, max_pieces: int = 6) -> st.SearchStrategy[str]:
    pieces = [st.sampled_from(FRAGMENTS), st.text(max_size=12)]
    if surrogates:
        pieces.append(st.sampled_from(SURROGATES))
    return st.lists(st.one_of(*pieces), max_size=max_pieces).map("".join)


def huge(text: st.SearchStrategy[str], limit: int) -> st.SearchStrategy[str]:
    """Long strings made cheaply by repetition (up to `limit` characters)."""
    return st.builds(lambda s, n: ((s or "x") * n)[:limit], text, st.integers(1, 40_000))


# --- arbitrary document trees ---------------------------------------------------------------------

doc_text = st.one_of(hostile_text(surrogates=True), huge(hostile_text(surrogates=True), 50_000))
small_doc_text = hostile_text(surrogates=True, max_pieces=3)
hrefs = st.one_of(
    st.none(),
    st.sampled_from(
        ["", "https://example.com/a?b=1&c=<x>", "javascript:alert(1)", "mailto:a@b.c", "/rel"]
    ),
    small_doc_text,
)
inline = st.one_of(
    st.builds(
        Text,
        text=st.one_of(small_doc_text, doc_text),
        strong=st.booleans(),
        em=st.booleans(),
        code=st.booleans(),
        href=hrefs,
    ),
    st.just(HardBreak()),
)
inlines = st.lists(inline, max_size=4).map(tuple)
leaf_blocks = st.one_of(
    st.builds(Paragraph, inlines),
    st.builds(Heading, st.integers(-2, 9), inlines),
    st.builds(CodeBlock, doc_text, st.one_of(st.none(), small_doc_text)),
    st.just(Rule()),
)


def tuples(strategy: st.SearchStrategy[Any], max_size: int) -> st.SearchStrategy[tuple[Any, ...]]:
    return st.lists(strategy, max_size=max_size).map(tuple)


def containers(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    items = tuples(st.builds(ListItem, tuples(children, 3)), 3)
    cells = tuples(st.builds(TableCell, tuples(children, 2), header=st.booleans()), 3)
    return st.one_of(
        st.builds(BulletList, items),
        st.builds(OrderedList, items),
        st.builds(Table, tuples(st.builds(TableRow, cells), 4)),
        st.builds(
            Panel,
            st.sampled_from(["info", "note", "tip", "warning", "error", "success"]),
            tuples(children, 3),
        ),
    )


def repeated(strategy: st.SearchStrategy[Any], most: int) -> st.SearchStrategy[tuple[Any, ...]]:
    """A few distinct elements, then the last one repeated: long lists and tables made cheaply."""
    return st.builds(
        lambda few, n: (*few, *few[-1:] * n), st.lists(strategy, max_size=3), st.integers(0, most)
    )


# Long lists and tables of small entries (beyond TABLE_MAX_ROWS rows a table becomes aligned
# lines, beyond COMPACT_MAX_ROWS and LIST_MAX_ITEMS entries they can be shortened), top level
# or in one container; not nested further, so documents stay a few megabytes at most.
small_inline = st.one_of(
    st.builds(Text, text=small_doc_text, strong=st.booleans(), code=st.booleans(), href=hrefs),
    st.just(HardBreak()),
)
small_leaf = st.one_of(
    st.builds(Paragraph, tuples(small_inline, 3)),
    st.builds(Heading, st.integers(1, 6), tuples(small_inline, 2)),
    st.builds(CodeBlock, small_doc_text),
)
long_item = st.builds(ListItem, tuples(small_leaf, 2))
long_row = st.builds(
    TableRow, tuples(st.builds(TableCell, tuples(small_leaf, 2), header=st.booleans()), 4)
)
long_blocks = st.one_of(
    st.builds(BulletList, repeated(long_item, 4 * LIST_MAX_ITEMS + 20)),
    st.builds(OrderedList, repeated(long_item, 2 * LIST_MAX_ITEMS)),
    st.builds(Table, repeated(long_row, 4 * COMPACT_MAX_ROWS + 20)),
)
long_blocks = long_blocks | st.builds(
    lambda block, kind: Panel(kind, (block,)) if kind else BulletList((ListItem((block,)),)),
    long_blocks,
    st.sampled_from(["", "info"]),
)
blocks = st.recursive(leaf_blocks, containers, max_leaves=12) | long_blocks
documents = st.builds(Document, tuples(blocks, 6))
budgets = st.one_of(st.just(DEFAULT_MAX_CHARS), st.integers(512, 8000))


def truncation_note(adf: Node) -> tuple[int, int] | None:
    content = adf["content"]
    if not content or content[-1]["type"] != "panel":
        return None
    first = content[-1]["content"][0].get("content", [{}])[0].get("text", "")
    if content[-1]["attrs"]["panelType"] != "note" or not first.startswith(TRUNCATION_NOTE_PREFIX):
        return None
    match = re.search(r"([\d,]+) of ([\d,]+) characters shown", first)
    assert match is not None
    return int(match[1].replace(",", "")), int(match[2].replace(",", ""))


def walk(nodes: list[Node]) -> list[Node]:
    found: list[Node] = []
    stack = list(nodes)
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.get("content", ()))
    return found


def text_chars(nodes: list[Node]) -> int:
    """Visible characters of text: whitespace does not count (the note's unit)."""
    return sum(len("".join(node["text"].split())) for node in walk(nodes) if node["type"] == "text")


def all_texts(nodes: list[Node]) -> set[str]:
    return {node["text"] for node in walk(nodes) if node["type"] == "text"}


def check_bounded(doc: Document, max_chars: int, assert_valid_adf: AdfCheck) -> Node:
    adf = render_adf(doc, max_chars=max_chars, full_content_url="https://alerts.example/1")
    assert_valid_adf(adf)
    assert adf_size(adf) <= max_chars
    from json import dumps

    assert len(dumps(adf, ensure_ascii=False, separators=(",", ":"))) <= max_chars
    full = render_adf(doc, max_chars=UNLIMITED)
    note = truncation_note(adf)
    if adf_size(full) <= max_chars:
        event("kept whole")
        assert note is None
        assert adf == full
    elif note is None:
        event("condensed")  # tables written as lines, every visible character kept
        # (>=: an ellipsis may mark whitespace cut off the end of a text)
        assert text_chars(adf["content"]) >= text_chars(full["content"])
    else:
        event("truncated")
        if any(text.startswith("… and ") for text in all_texts(adf["content"])):
            event("truncated, with '… and N more'")
        shown, total = note
        assert total == text_chars(full["content"])
        assert 0 <= shown < total
    return adf


@PROFILE
@given(doc=documents, max_chars=budgets)
def test_any_document_renders_valid_and_bounded(
    doc: Document, max_chars: int, assert_valid_adf: AdfCheck
) -> None:
    check_bounded(doc, max_chars, assert_valid_adf)


prose_paragraphs = st.lists(
    st.one_of(hostile_text(surrogates=True), huge(hostile_text(surrogates=True), 3000)).map(
        lambda text: text + " x"  # something visible, so the paragraph never vanishes
    ),
    min_size=2,
    max_size=40,
)


@PROFILE
@given(paragraphs=prose_paragraphs, max_chars=st.integers(512, 8000))
def test_prose_under_pressure_is_its_paragraphs_joined_by_blank_lines(
    paragraphs: list[str], max_chars: int, assert_valid_adf: AdfCheck
) -> None:
    doc = Document((Heading(1, (Text("Alert"),)), *(Paragraph((Text(p),)) for p in paragraphs)))
    adf = check_bounded(doc, max_chars, assert_valid_adf)
    if truncation_note(adf) is None:
        return
    event("prose merged")
    full = render_adf(doc, max_chars=UNLIMITED)["content"][1:]
    whole = "\n\n".join(
        "".join(node.get("text", "\n") for node in paragraph["content"]) for paragraph in full
    )
    kept = [block for block in adf["content"][:-1] if block["type"] == "paragraph"]
    assert len(kept) <= 1
    if kept:
        (node,) = kept[0]["content"]
        assert "marks" not in node
        text = node["text"]
        assert whole.startswith(text[:-1] if text.endswith("…") else text)


# --- hostile alerts through the ticket layout -----------------------------------------------------

alert_text = hostile_text(surrogates=False)  # the alert model refuses lone surrogates


def stripped(max_len: int, text: st.SearchStrategy[str] = alert_text) -> st.SearchStrategy[str]:
    """Text the alert model accepts where it strips and needs a character (never filtered:
    rejection sampling would waste most draws)."""
    return text.map(lambda s: s.strip()[:max_len].strip() or "x")


short = stripped(1000)
maybe_short = st.one_of(st.none(), short)
offsets = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-9))]
)
moments = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    offsets,
) | st.just(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))))
hex_digest = {n: st.text("0123456789abcdefABCDEF", min_size=n, max_size=n) for n in (32, 40, 64)}
plain_observable_types = [
    t
    for t in ObservableType
    if t not in (ObservableType.HASH_MD5, ObservableType.HASH_SHA1, ObservableType.HASH_SHA256)
]
observables = st.one_of(
    st.builds(
        Observable,
        type=st.sampled_from(plain_observable_types),
        value=st.one_of(stripped(8192), stripped(8192, huge(short, 8192))),
        tlp=st.sampled_from(Tlp),
    ),
    st.builds(Observable, type=st.just(ObservableType.HASH_SHA256), value=hex_digest[64]),
)
custody = st.builds(
    CustodyEntry,
    action=st.sampled_from(CustodyAction),
    actor=short,
    at=moments,
    location=maybe_short,
    notes=st.one_of(st.none(), alert_text, huge(alert_text, 10_000)),
)
evidence = st.builds(
    Evidence,
    name=short,
    type=st.sampled_from(EvidenceType),
    size_bytes=st.one_of(st.none(), st.integers(0, 2**63 - 1)),  # the model's BIGINT bound
    hashes=st.builds(
        EvidenceHashes,
        md5=st.one_of(st.none(), hex_digest[32]),
        sha1=st.one_of(st.none(), hex_digest[40]),
        sha256=st.one_of(st.none(), hex_digest[64]),
    ),
    location=maybe_short,
    collected_at=st.one_of(st.none(), moments),
    collected_by=maybe_short,
    custody=st.lists(custody, max_size=3),
)


def bulk(strategy: st.SearchStrategy[Any], most: int, few: int) -> st.SearchStrategy[list[Any]]:
    """Mostly short lists, sometimes one element repeated up to `most` times (cheap to make)."""
    return st.one_of(
        st.lists(strategy, max_size=few),
        st.builds(lambda x, n: [x] * n, strategy, st.integers(0, most)),
    )


alerts = st.builds(
    Alert,
    title=st.one_of(stripped(2000), stripped(2000, huge(short, 2000))),
    description=st.one_of(alert_text, huge(alert_text, 200_000)),
    severity=st.sampled_from(Severity),
    status=st.sampled_from(AlertStatus),
    source=short,
    category=maybe_short,
    detected_at=moments,
    threat_score=st.one_of(st.none(), st.integers(0, 100)),
    affected_assets=bulk(short, 1000, 4),
    tags=st.lists(short, max_size=3),
    external_id=maybe_short,
    fingerprint=st.one_of(st.none(), stripped(200)),
    link=st.one_of(
        st.none(),
        st.sampled_from(
            ["https://aegis.example/alerts/1?q=%3Cx%3E&y=z", "http://10.0.0.1:8080/a#f"]
        ),
    ),
    assignee_email=st.none(),
    due_date=st.one_of(st.none(), st.dates(min_value=date(2000, 1, 1))),
    module=st.sampled_from(Module),
    observables=bulk(observables, 1000, 3),
    mitre=st.lists(
        st.sampled_from(["T1059.001", "TA0005", "T1562", "T1562.001", "T9999", "TA0099", "T1078"]),
        max_size=5,
    ),
    evidence=st.one_of(
        st.lists(evidence, max_size=2),
        st.builds(lambda e, n: [e] * n, evidence, st.integers(0, 30)),
    ),
)


def expected_lines(value: str) -> set[str]:
    return {line for line in sanitize_text(value).split("\n") if line.strip()}


def shown_lines(adf: Node) -> Callable[[set[str]], bool]:
    """Whether every line is shown: in a text node of its own, or within a code block (a table
    written as aligned lines, where a cell's tabs and line breaks become spaces)."""
    texts = all_texts(adf["content"])
    # Merged prose: the lines of one text, paragraphs separated by a blank line.
    texts |= {line for text in texts if "\n" in text for line in text.split("\n")}
    blocks = [node for node in walk(adf["content"]) if node["type"] == "codeBlock"]
    lines_blob = "\n".join(text for node in blocks for text in all_texts([node]))

    def check(lines: set[str]) -> bool:
        return all(line in texts or line.replace("\t", " ") in lines_blob for line in lines)

    return check


@PROFILE
@given(alert=alerts)
def test_hostile_alerts_render_valid_bounded_and_verbatim(
    alert: Alert, assert_valid_adf: AdfCheck
) -> None:
    doc = build_description(alert, workspace_name="Acme <b>*SOC*</b>")
    adf = check_bounded(doc, DEFAULT_MAX_CHARS, assert_valid_adf)
    if truncation_note(adf) is not None:
        return
    texts = all_texts(adf["content"])
    shown = shown_lines(adf)
    assert shown(expected_lines(alert.title))
    assert shown(expected_lines(alert.description))
    for value in [alert.source, *alert.affected_assets, *(o.value for o in alert.observables)]:
        assert shown(expected_lines(value))
    for item in alert.evidence:
        name = sanitize_text(item.name, newlines=False)
        assert name in texts or not name  # a name of only invisible characters shows nothing
        for entry in item.custody:
            assert shown(expected_lines(entry.notes or ""))
    if not alert.description.strip():
        assert "No description provided." in texts


SHORT_HOSTILE = st.lists(st.sampled_from(FRAGMENTS[:14]), min_size=1, max_size=3).map(" ".join)


@settings(max_examples=40, deadline=None)
@given(title=SHORT_HOSTILE, description=SHORT_HOSTILE)
def test_short_hostile_text_appears_verbatim_as_one_text_node(
    title: str, description: str, assert_valid_adf: AdfCheck
) -> None:
    fragments_without_breaks = "\n" not in title + description
    alert = Alert(
        title=title,
        description=description,
        severity=Severity.HIGH,
        source="edr",
        detected_at=datetime(2026, 11, 27, 8, tzinfo=UTC),
    )
    adf = render_adf(build_description(alert, workspace_name="w"))
    assert_valid_adf(adf)
    texts = all_texts(adf["content"])
    if fragments_without_breaks:
        assert alert.title in texts
        assert description in texts
