"""ADF rendering: each Jira rule, sanitising, and the size budget."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from sentineliq.document.adf import (
    COMPACT_MAX_ROWS,
    DEFAULT_MAX_CHARS,
    LIST_MAX_ITEMS,
    TABLE_MAX_ROWS,
    TRUNCATION_NOTE_PREFIX,
    _fit_text,
    _water_level,
    adf_size,
    adf_text_paragraph,
    render_adf,
    sanitize_text,
)
from sentineliq.document.model import (
    Block,
    BulletList,
    CodeBlock,
    Document,
    HardBreak,
    Heading,
    Inline,
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

Node = dict[str, Any]
AdfCheck = Callable[..., None]  # the assert_valid_adf fixture (conftest.py)


def render(*blocks: Block, **kwargs: Any) -> list[Node]:
    content: list[Node] = render_adf(Document(blocks), **kwargs)["content"]
    return content


def para(*inlines: Inline) -> Paragraph:
    return Paragraph(inlines)


def text_node(text: str, *marks: Node) -> Node:
    node: Node = {"type": "text", "text": text}
    if marks:
        node["marks"] = list(marks)
    return node


def cell(*blocks: Block, header: bool = False) -> TableCell:
    return TableCell(blocks, header=header)


LINK = {"type": "link", "attrs": {"href": "https://example.com/a"}}
STRONG = {"type": "strong"}
CODE = {"type": "code"}
EMPTY_PARAGRAPH = {"type": "paragraph"}


class _AnyText(str):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str)

    __hash__ = str.__hash__


ANY_TEXT = _AnyText()


def texts(node: Any) -> list[str]:
    """Every text node's text, in document order."""
    if isinstance(node, list):
        return [text for child in node for text in texts(child)]
    found = [node["text"]] if node.get("type") == "text" else []
    return found + texts(node.get("content", []))


def note_numbers(doc: Node) -> tuple[int, int] | None:
    last = doc["content"][-1] if doc["content"] else None
    if not last or last["type"] != "panel" or last["attrs"]["panelType"] != "note":
        return None
    first = last["content"][0]["content"][0]["text"]
    if not first.startswith(TRUNCATION_NOTE_PREFIX):
        return None
    match = re.search(r"([\d,]+) of ([\d,]+) characters shown", first)
    assert match is not None
    return int(match[1].replace(",", "")), int(match[2].replace(",", ""))


# --- structure and marks --------------------------------------------------------------------------


def test_empty_document(assert_valid_adf: AdfCheck) -> None:
    doc = render_adf(Document())
    assert doc == {"version": 1, "type": "doc", "content": []}
    assert_valid_adf(doc, thorough=True)


def test_every_node_kind_renders_valid(assert_valid_adf: AdfCheck) -> None:
    doc = Document(
        (
            Heading(2, (Text("Title"),)),
            para(Text("plain "), Text("bold", strong=True), Text("it", em=True), HardBreak()),
            para(Text("see", href="https://example.com/a"), Text("x", code=True)),
            CodeBlock("print(1)\nprint(2)", "python"),
            Rule(),
            BulletList((ListItem((para(Text("a")),)),)),
            OrderedList((ListItem((para(Text("b")),)),)),
            Table((TableRow((cell(para(Text("h")), header=True), cell(para(Text("v"))))),)),
            Panel("tip", (para(Text("p")),)),
        )
    )
    adf = render_adf(doc)
    assert_valid_adf(adf, thorough=True)
    assert [block["type"] for block in adf["content"]] == [
        "heading",
        "paragraph",
        "paragraph",
        "codeBlock",
        "rule",
        "bulletList",
        "orderedList",
        "table",
        "panel",
    ]
    assert adf["content"][1]["content"] == [
        text_node("plain "),
        text_node("bold", STRONG),
        text_node("it", {"type": "em"}),
        {"type": "hardBreak"},
    ]
    assert adf["content"][7]["content"][0]["content"][0]["type"] == "tableHeader"
    assert adf["content"][7]["content"][0]["content"][1]["type"] == "tableCell"


def test_empty_text_runs_are_dropped_and_empty_paragraph_stays() -> None:
    assert render(para(Text(""), Text("x"), Text(""))) == [
        {"type": "paragraph", "content": [text_node("x")]}
    ]
    assert render(para(Text(""))) == [EMPTY_PARAGRAPH]
    assert render(para()) == [EMPTY_PARAGRAPH]


def test_code_mark_combines_only_with_link(assert_valid_adf: AdfCheck) -> None:
    blocks = render(
        para(
            Text("a", code=True, strong=True, em=True),
            Text("b", code=True, href="https://example.com/a"),
            Text("c", strong=True, href="https://example.com/a"),
        )
    )
    assert blocks[0]["content"] == [
        text_node("a", CODE),
        text_node("b", CODE, LINK),
        text_node("c", STRONG, LINK),
    ]
    assert_valid_adf({"version": 1, "type": "doc", "content": blocks}, thorough=True)


@pytest.mark.parametrize(
    "href",
    ["", "   ", "javascript:alert(1)", "data:text/html,x", "/relative", "http://", "ftp://x.y/"],
)
def test_unsafe_or_empty_href_drops_the_link_but_keeps_the_text(href: str) -> None:
    assert render(para(Text("t", href=href))) == [
        {"type": "paragraph", "content": [text_node("t")]}
    ]


def test_mailto_and_http_links_are_kept() -> None:
    mail = {"type": "link", "attrs": {"href": "mailto:soc@example.com"}}
    blocks = render(para(Text("m", href="mailto:soc@example.com"), Text("w", href="http://x.y/")))
    assert blocks[0]["content"] == [
        text_node("m", mail),
        text_node("w", {"type": "link", "attrs": {"href": "http://x.y/"}}),
    ]


def test_href_loses_control_characters_and_whitespace() -> None:
    blocks = render(para(Text("t", href=" https://x.y/\x00a b\n")))
    assert blocks[0]["content"][0]["marks"] == [
        {"type": "link", "attrs": {"href": "https://x.y/ab"}}
    ]


def test_overlong_href_is_not_linked() -> None:
    href = "https://x.y/" + "a" * 5000
    assert "marks" not in render(para(Text("t", href=href)))[0]["content"][0]


def test_code_block_keeps_newlines_and_has_no_marks(assert_valid_adf: AdfCheck) -> None:
    blocks = render(CodeBlock("a\r\nb\n\tc\x00", "  sh  "))
    assert blocks == [
        {
            "type": "codeBlock",
            "attrs": {"language": "sh"},
            "content": [text_node("a\nb\n\tc")],
        }
    ]
    assert_valid_adf({"version": 1, "type": "doc", "content": blocks}, thorough=True)


def test_empty_code_block_has_no_text_node() -> None:
    assert render(CodeBlock("", None), CodeBlock("\x00", "")) == [
        {"type": "codeBlock"},
        {"type": "codeBlock"},
    ]


@pytest.mark.parametrize(("level", "expected"), [(-3, 1), (0, 1), (1, 1), (6, 6), (7, 6), (99, 6)])
def test_heading_level_is_clamped(level: int, expected: int) -> None:
    assert render(Heading(level, (Text("h"),)))[0]["attrs"] == {"level": expected}


def test_heading_is_one_line_and_dropped_when_empty() -> None:
    assert render(Heading(1, (Text("a\nb"), HardBreak(), Text("c"))))[0]["content"] == [
        text_node("a b c")
    ]
    assert render(Heading(1, (Text(""),)), Heading(2, ())) == []


def test_paragraph_newlines_become_hard_breaks() -> None:
    assert render(para(Text("a\n\nb\r\nc\u2028d", strong=True)))[0]["content"] == [
        text_node("a", STRONG),
        {"type": "hardBreak"},
        {"type": "hardBreak"},
        text_node("b", STRONG),
        {"type": "hardBreak"},
        text_node("c", STRONG),
        {"type": "hardBreak"},
        text_node("d", STRONG),
    ]


def test_list_item_needs_a_block() -> None:
    assert render(BulletList((ListItem(()),))) == [
        {"type": "bulletList", "content": [{"type": "listItem", "content": [EMPTY_PARAGRAPH]}]}
    ]
    assert render(BulletList(()), OrderedList(())) == []


def test_list_item_opens_with_a_paragraph_before_a_nested_list() -> None:
    nested = BulletList((ListItem((para(Text("inner")),)),))
    item = render(BulletList((ListItem((nested,)),)))[0]["content"][0]
    assert [child["type"] for child in item["content"]] == ["paragraph", "bulletList"]


def test_list_items_turn_forbidden_blocks_into_allowed_ones(assert_valid_adf: AdfCheck) -> None:
    item = ListItem(
        (
            Heading(2, (Text("title", em=True),)),
            Rule(),
            Panel("info", (para(Text("in panel")),)),
            Table((TableRow((cell(para(Text("cell"))),)),)),
        )
    )
    blocks = render(BulletList((item,)))
    assert_valid_adf({"version": 1, "type": "doc", "content": blocks}, thorough=True)
    content = blocks[0]["content"][0]["content"]
    assert content[0] == {
        "type": "paragraph",
        "content": [text_node("title", STRONG, {"type": "em"})],
    }
    assert [child["type"] for child in content] == ["paragraph", "paragraph", "bulletList"]
    assert texts(content) == ["title", "in panel", "cell"]


def test_table_cells_need_a_block_and_empty_tables_vanish() -> None:
    table = render(Table((TableRow((cell(header=True), cell(para(Text("v"))))),)))[0]
    assert table["content"][0]["content"][0] == {
        "type": "tableHeader",
        "content": [EMPTY_PARAGRAPH],
    }
    assert render(Table(()), Table((TableRow(()),))) == []


def test_nested_table_becomes_a_list_in_its_cell(assert_valid_adf: AdfCheck) -> None:
    inner = Table(
        (
            TableRow((cell(para(Text("k1"))), cell(para(Text("v1"))))),
            TableRow((cell(), cell())),  # an empty row says nothing
            TableRow((cell(para(Text("k2"))),)),
        )
    )
    blocks = render(Table((TableRow((cell(inner),)),)))
    assert_valid_adf({"version": 1, "type": "doc", "content": blocks}, thorough=True)
    in_cell = blocks[0]["content"][0]["content"][0]["content"]
    assert [block["type"] for block in in_cell] == ["bulletList"]
    assert [texts(item) for item in in_cell[0]["content"]] == [["k1", "v1"], ["k2"]]


def test_panels_do_not_nest_or_hold_tables(assert_valid_adf: AdfCheck) -> None:
    doc = Panel(
        "warning",
        (
            Panel("error", (para(Text("inner")),)),
            Table((TableRow((cell(para(Text("t"))),)),)),
        ),
    )
    blocks = render(doc)
    assert_valid_adf({"version": 1, "type": "doc", "content": blocks}, thorough=True)
    assert blocks[0]["attrs"] == {"panelType": "warning"}
    assert [block["type"] for block in blocks[0]["content"]] == ["paragraph", "bulletList"]


def test_panel_in_a_cell_is_kept(assert_valid_adf: AdfCheck) -> None:
    blocks = render(Table((TableRow((cell(Panel("note", (para(Text("n")),))),)),)))
    assert_valid_adf({"version": 1, "type": "doc", "content": blocks}, thorough=True)
    assert blocks[0]["content"][0]["content"][0]["content"][0]["type"] == "panel"


def test_unknown_panel_kind_falls_back_to_info_and_empty_panel_vanishes() -> None:
    assert render(Panel("custom", (para(Text("x")),)))[0]["attrs"] == {"panelType": "info"}  # type: ignore[arg-type]
    assert render(Panel("info", ())) == []


def test_unknown_block_type_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="not a document block"):
        render_adf(Document((Text("inline where a block belongs"),)))  # type: ignore[arg-type]


# --- sanitising -----------------------------------------------------------------------------------


def test_sanitize_text() -> None:
    assert sanitize_text("a\x00b\x07c\x1b[31m\x7fd\x85e\x9ff\ufffeg") == "abc[31md\nefg"
    assert sanitize_text("lone \ud800 and \udfff") == "lone \ufffd and \ufffd"
    assert sanitize_text("keep\ttab\nnl") == "keep\ttab\nnl"
    assert sanitize_text("one\r\ntwo\rthree", newlines=False) == "one two three"


def test_hostile_unicode_is_kept_and_serialises(assert_valid_adf: AdfCheck) -> None:
    hostile = "مرحبا \u202eevil\u202c 👩‍💻 e\u0301 \u200b h1. *bold* {code} <script>x</script>"
    adf = render_adf(Document((para(Text(hostile)),)))
    assert texts(adf) == [hostile]
    assert_valid_adf(adf, thorough=True)
    json.dumps(adf, ensure_ascii=False).encode("utf-8")  # no lone surrogates left


def test_lone_surrogates_and_nul_do_not_crash(assert_valid_adf: AdfCheck) -> None:
    adf = render_adf(Document((para(Text("\ud83d\x00")), CodeBlock("\udc00"))))
    assert texts(adf) == ["\ufffd", "\ufffd"]
    json.dumps(adf, ensure_ascii=False).encode("utf-8")
    assert_valid_adf(adf, thorough=True)


def test_text_made_only_of_control_characters_disappears() -> None:
    assert render(para(Text("\x00\x01"), Text("ok"))) == [
        {"type": "paragraph", "content": [text_node("ok")]}
    ]


def test_adf_text_paragraph() -> None:
    assert adf_text_paragraph("a\nb\x00") == {
        "type": "paragraph",
        "content": [text_node("a"), {"type": "hardBreak"}, text_node("b")],
    }
    assert adf_text_paragraph("") == EMPTY_PARAGRAPH


# --- size budget ----------------------------------------------------------------------------------


def test_adf_size_counts_utf16_units_of_compact_json() -> None:
    assert adf_size({"a": "é"}) == len('{"a":"é"}')
    assert adf_size({"a": "😀"}) == len('{"a":"😀"}') + 1  # Java counts an emoji twice
    assert adf_size({"a": 'q"\n'}) == len('{"a":"q\\"\\n"}')


def test_small_document_is_not_truncated() -> None:
    adf = render_adf(Document((para(Text("hello")),)))
    assert note_numbers(adf) is None


def test_document_exactly_at_the_limit_is_kept_whole() -> None:
    doc = Document((para(Text("x" * 2000)),))
    size = adf_size(render_adf(doc))
    assert note_numbers(render_adf(doc, max_chars=size)) is None
    truncated = render_adf(doc, max_chars=size - 1)
    assert note_numbers(truncated) is not None
    assert adf_size(truncated) <= size - 1


def test_long_text_is_shortened_and_noted(assert_valid_adf: AdfCheck) -> None:
    long = "word " * 40_000  # 200,000 characters
    doc = Document((Heading(1, (Text("Alert"),)), para(Text(long)), CodeBlock("tail")))
    adf = render_adf(doc)
    assert adf_size(adf) <= DEFAULT_MAX_CHARS
    assert_valid_adf(adf)
    kinds = [block["type"] for block in adf["content"]]
    assert kinds == ["heading", "paragraph", "codeBlock", "panel"]  # structure survives
    shortened = adf["content"][1]["content"][0]["text"]
    assert shortened.endswith("…")
    assert long.startswith(shortened[:-1])
    assert adf["content"][2]["content"] == [text_node("tail")]
    numbers = note_numbers(adf)
    assert numbers is not None
    shown, total = numbers
    # The note counts visible characters: whitespace does not count.
    assert total == len(long.replace(" ", "")) + len("Alert") + len("tail")
    assert shown == len(shortened[:-1].replace(" ", "")) + len("Alert") + len("tail")


def test_prose_under_pressure_is_one_text_cut_as_late_as_fits(assert_valid_adf: AdfCheck) -> None:
    paragraphs = [para(Text(f"{n} " + "p" * 3000)) for n in range(30)]
    adf = render_adf(Document((Heading(1, (Text("Alert"),)), *paragraphs)))
    assert_valid_adf(adf)
    kinds = [block["type"] for block in adf["content"]]
    assert kinds == ["heading", "paragraph", "panel"]
    (text,) = texts(adf["content"][1])
    whole = "\n\n".join(f"{n} " + "p" * 3000 for n in range(30))
    assert text.endswith("…")
    assert whole.startswith(text[:-1])
    assert 5 * 3000 < len(text) < 30 * 3000
    assert adf_size(adf) > DEFAULT_MAX_CHARS - 20  # cut as late as fits


def test_prose_under_pressure_merges_only_plain_paragraphs(assert_valid_adf: AdfCheck) -> None:
    """A paragraph node costs ~60 characters of JSON and a hardBreak ~47; a line break inside
    text costs 2. Plain paragraphs merge into one text with blank lines between them; links,
    emphasis, empty paragraphs and headings stay as they are and end a run."""
    filler = "f" * 600
    link = Text("the console", href="https://console.example/a/1")
    doc = Document(
        (
            Heading(2, (Text("Alert"),)),
            para(Text("Title", strong=True)),
            para(Text("first")),
            para(Text("second line one\nline two"), HardBreak(), Text("line three")),
            para(Text("see "), link),
            para(Text("third")),
            para(),
            para(Text("fourth")),
            Heading(2, (Text("Tail"),)),
            *(para(Text(f"{n} {filler}")) for n in range(60)),
        )
    )
    adf = render_adf(doc)
    assert_valid_adf(adf, thorough=True)
    blocks = adf["content"]
    assert [block["type"] for block in blocks] == [
        "heading",
        *["paragraph"] * 6,
        "heading",
        "paragraph",
        "panel",
    ]
    assert blocks[1]["content"] == [text_node("Title", STRONG)]
    assert blocks[2]["content"] == [text_node("first\n\nsecond line one\nline two\nline three")]
    assert blocks[3]["content"] == [
        text_node("see "),
        text_node(
            "the console", {"type": "link", "attrs": {"href": "https://console.example/a/1"}}
        ),
    ]
    assert blocks[4]["content"] == [text_node("third")]
    assert blocks[5] == {"type": "paragraph"}
    assert blocks[6]["content"] == [text_node("fourth")]
    (tail,) = texts(blocks[8])
    assert tail.startswith(f"0 {filler}\n\n1 {filler}\n\n2 ")
    assert tail.endswith("…")


def test_prose_is_not_merged_when_the_document_fits_otherwise() -> None:
    paragraphs = [para(Text(f"{n} " + "p" * 400)) for n in range(70)]  # ~32,000 serialised
    doc = Document(
        (Table(tuple(TableRow((cell(para(Text(f"row {n}"))),)) for n in range(10))), *paragraphs)
    )
    assert adf_size(render_adf(doc, max_chars=10**9)) > DEFAULT_MAX_CHARS
    adf = render_adf(doc)
    assert note_numbers(adf) is None  # the table as lines made room: every paragraph is whole
    assert adf["content"][0]["type"] == "codeBlock"
    assert [texts(block) for block in adf["content"][1:]] == [
        [f"{n} " + "p" * 400] for n in range(70)
    ]


def test_long_texts_share_the_budget() -> None:
    doc = Document((para(Text("a" * 50_000)), CodeBlock("b" * 50_000), para(Text("short"))))
    adf = render_adf(doc)
    assert adf_size(adf) <= DEFAULT_MAX_CHARS
    first = adf["content"][0]["content"][0]["text"]
    code = adf["content"][1]["content"][0]["text"]
    assert len(first) == len(code) > 10_000  # the same cap for both
    assert adf["content"][2]["content"] == [text_node("short")]
    assert adf_size(adf) > DEFAULT_MAX_CHARS - 200  # the cap is as large as fits


def test_long_prose_does_not_crowd_out_later_sections(assert_valid_adf: AdfCheck) -> None:
    prose = tuple(para(Text(f"paragraph {n} " + "p" * 400)) for n in range(300))
    assets = BulletList(tuple(ListItem((para(Text(f"host-{n}")),)) for n in range(30)))
    doc = Document(
        (
            Heading(2, (Text("Alert"),)),
            *prose,
            Heading(2, (Text("Affected assets"),)),
            assets,
            Heading(2, (Text("Link"),)),
            para(Text("https://alerts.example/a/1", href="https://alerts.example/a/1")),
        )
    )
    adf = render_adf(doc, full_content_url="https://alerts.example/a/1")
    assert adf_size(adf) <= DEFAULT_MAX_CHARS
    assert_valid_adf(adf)
    kinds = [block["type"] for block in adf["content"]]
    # The prose is cut at its end; every section after it is still there, whole.
    assert kinds == [
        "heading",
        "paragraph",
        "heading",
        "bulletList",
        "heading",
        "paragraph",
        "panel",
    ]
    assert texts(adf["content"][-4]) == [f"host-{n}" for n in range(30)]
    (kept_prose,) = texts(adf["content"][1])
    paragraphs = kept_prose.split("\n\n")
    assert 30 < len(paragraphs) < 300
    assert paragraphs[:-1] == [f"paragraph {n} " + "p" * 400 for n in range(len(paragraphs) - 1)]
    assert adf_size(adf) > DEFAULT_MAX_CHARS - 500  # the prose took what the others left


@pytest.mark.parametrize(
    "text",
    ["plain words " * 400, 'q"\\\n\x01😀é ' * 400, "😀" * 3000, "\n" * 3000, "a\n\n" * 1500],
)
def test_a_cut_text_is_the_longest_prefix_that_fits(text: str) -> None:
    node = {"type": "text", "text": text}
    for budget in (40, 41, 500, 1001, 2999, 4000):
        cut = _fit_text(node, budget)
        if cut is None:  # not even one character and the ellipsis fit
            assert adf_size({"type": "text", "text": text[:1] + "…"}) > budget
            continue
        assert adf_size(cut) <= budget
        kept = cut["text"].removesuffix("…")
        assert text.startswith(kept)
        longer = {"type": "text", "text": text[: len(kept) + 1] + "…"}
        assert adf_size(longer) > budget


def test_water_level() -> None:
    assert _water_level([10, 20, 300], 100) == 70
    assert _water_level([10, 20, 30], 100) == 30  # everything fits
    assert _water_level([50, 50], 60) == 30
    assert _water_level([], 10) == 0


def test_table_of_more_than_twenty_rows_becomes_aligned_lines(assert_valid_adf: AdfCheck) -> None:
    header = TableRow(tuple(cell(para(Text(t))) for t in ("Type", "Value", "TLP")))
    header = TableRow(tuple(TableCell(c.blocks, header=True) for c in header.cells))
    rows = [
        TableRow(
            (
                cell(para(Text("IP address"))),
                cell(para(Text(f"10.0.0.{n}", code=True))),
                cell(para(Text("TLP:AMBER"))),
            )
        )
        for n in range(TABLE_MAX_ROWS)
    ]
    small = render(Table((header, *rows[:-1])))
    assert [block["type"] for block in small] == ["table"]  # twenty rows stay a table
    blocks = render(Table((header, *rows)))
    assert_valid_adf({"version": 1, "type": "doc", "content": blocks}, thorough=True)
    assert blocks == [{"type": "codeBlock", "content": [text_node(ANY_TEXT)]}]
    lines = blocks[0]["content"][0]["text"].split("\n")
    assert lines[:3] == [
        "Type        Value      TLP",
        "IP address  10.0.0.0   TLP:AMBER",
        "IP address  10.0.0.1   TLP:AMBER",
    ]
    assert len(lines) == 1 + TABLE_MAX_ROWS
    # Lines and not a table: about a quarter of the size for the same text.
    assert adf_size(blocks) * 3 < adf_size(render(Table((header, *rows[:-1]))))


def test_aligned_lines_keep_hostile_cells_verbatim_and_pad_only_short_columns(
    assert_valid_adf: AdfCheck,
) -> None:
    long = "https://x.example/" + "a" * 60
    cells = [
        ("h1. *bold* {code}", "<script>x</script>"),
        ("", "👩‍💻 مرحبا"),
        ("tab\there", "line 1\nline 2\x00"),
        (long, "v"),
        ("k", ""),
    ] * 5
    table = Table(tuple(TableRow((cell(para(Text(k))), cell(para(Text(v))))) for k, v in cells))
    blocks = render(table)
    assert_valid_adf({"version": 1, "type": "doc", "content": blocks}, thorough=True)
    lines = blocks[0]["content"][0]["text"].split("\n")
    assert lines[:5] == [
        "h1. *bold* {code}  <script>x</script>",
        "                   👩‍💻 مرحبا",
        "tab here           line 1 line 2",
        f"{long}  v",  # longer than the column limit: overflows instead of widening the column
        "k",  # no trailing padding
    ]


def test_a_large_table_of_empty_cells_vanishes() -> None:
    assert (
        render(Table(tuple(TableRow((cell(), cell(para(Text("\x00"))))) for _ in range(30)))) == []
    )


def test_a_large_table_in_a_list_item_or_panel_becomes_lines(assert_valid_adf: AdfCheck) -> None:
    table = Table(tuple(TableRow((cell(para(Text(f"r{n}"))),)) for n in range(25)))
    blocks = render(BulletList((ListItem((para(Text("x")), table)),)), Panel("info", (table,)))
    assert_valid_adf({"version": 1, "type": "doc", "content": blocks}, thorough=True)
    assert [b["type"] for b in blocks[0]["content"][0]["content"]] == ["paragraph", "codeBlock"]
    assert [b["type"] for b in blocks[1]["content"]] == ["codeBlock"]


def test_adjacent_texts_with_the_same_marks_are_merged() -> None:
    link = "https://example.com/a"
    blocks = render(
        para(
            Text("a"),
            Text("b"),
            Text("c", strong=True),
            Text("d", strong=True),
            Text("e", href=link),
            Text("f", href=link),
            HardBreak(),
            Text("g"),
        )
    )
    assert blocks[0]["content"] == [
        text_node("ab"),
        text_node("cd", STRONG),
        text_node("ef", LINK),
        {"type": "hardBreak"},
        text_node("g"),
    ]


def test_no_empty_attrs_marks_or_content_anywhere(assert_valid_adf: AdfCheck) -> None:
    doc = Document(
        (
            Heading(2, (Text("h"),)),
            para(Text("plain"), Text("")),
            para(),
            CodeBlock("x", None),
            CodeBlock("", ""),
            BulletList((ListItem(()),)),
            Table((TableRow((cell(), cell(para(Text("v"))))),)),
            Panel("note", (para(Text("n")),)),
        )
    )
    serialized = json.dumps(render_adf(doc), separators=(",", ":"))
    for empty in ('"attrs":{}', '"marks":[]', '"content":[]', '"text":""'):
        assert empty not in serialized


def test_long_list_that_fits_is_kept_whole() -> None:
    items = tuple(ListItem((para(Text(f"host-{n}")),)) for n in range(200))
    blocks = render(BulletList(items))
    assert len(blocks) == 1
    assert len(blocks[0]["content"]) == 200


def test_long_lists_under_pressure_show_their_first_items_and_how_many_more(
    assert_valid_adf: AdfCheck,
) -> None:
    items = tuple(ListItem((para(Text(f"host-{n:03}")),)) for n in range(300))
    rows = tuple(TableRow((cell(para(Text(f"row-{n:03}"))),)) for n in range(300))
    doc = Document((BulletList(items), Table(rows), para(Text("after"))))
    adf = render_adf(doc, max_chars=8000)
    assert adf_size(adf) <= 8000
    assert_valid_adf(adf, thorough=True)
    assert [block["type"] for block in adf["content"]] == [
        "bulletList",
        "paragraph",
        "codeBlock",
        "paragraph",
        "paragraph",
        "panel",
    ]
    assert texts(adf["content"][0]) == [f"host-{n:03}" for n in range(LIST_MAX_ITEMS)]
    assert adf["content"][1] == {
        "type": "paragraph",
        "content": [text_node("… and 250 more", {"type": "em"})],
    }
    lines = adf["content"][2]["content"][0]["text"].split("\n")
    assert lines == [f"row-{n:03}" for n in range(COMPACT_MAX_ROWS)]
    assert texts(adf["content"][3]) == ["… and 200 more rows"]
    assert texts(adf["content"][4]) == ["after"]
    # The note counts the document's own characters, not the "… and N more" lines.
    assert note_numbers(adf) == (8 * LIST_MAX_ITEMS + 7 * COMPACT_MAX_ROWS + 5, 15 * 300 + 5)


@pytest.mark.parametrize(("max_chars", "shown"), [(22_000, 200), (11_000, 100), (6_000, 50)])
def test_long_lists_keep_four_or_two_times_as_many_items_when_they_fit(
    max_chars: int, shown: int, assert_valid_adf: AdfCheck
) -> None:
    items = tuple(ListItem((para(Text(f"host-{n:03}")),)) for n in range(300))
    adf = render_adf(Document((BulletList(items),)), max_chars=max_chars)
    assert adf_size(adf) <= max_chars
    assert_valid_adf(adf)
    assert texts(adf["content"][0]) == [f"host-{n:03}" for n in range(shown)]
    assert texts(adf["content"][1]) == [f"… and {300 - shown} more"]


def test_deeply_structured_content_is_cut_inside_lists(assert_valid_adf: AdfCheck) -> None:
    items = tuple(ListItem((para(Text(f"item {n} " * 20)),)) for n in range(3000))
    adf = render_adf(Document((BulletList(items),)), max_chars=5000)
    assert adf_size(adf) <= 5000
    assert_valid_adf(adf)
    assert [block["type"] for block in adf["content"]] == ["bulletList", "paragraph", "panel"]
    assert 10 < len(adf["content"][0]["content"]) < LIST_MAX_ITEMS
    assert texts(adf["content"][1]) == ["… and 2,950 more"]


def test_tables_under_pressure_become_lines_before_text_is_cut(assert_valid_adf: AdfCheck) -> None:
    facts = Table(
        tuple(
            TableRow((cell(para(Text(f"Fact {n}")), header=True), cell(para(Text(f"value {n}")))))
            for n in range(10)
        )
    )
    doc = Document((facts, para(Text("x" * 3000))))
    size = adf_size(render_adf(doc))
    compact = render_adf(doc, max_chars=size - 1)
    assert_valid_adf(compact, thorough=True)
    # Every visible character still fits once the table is lines: no cut, so no note.
    assert [block["type"] for block in compact["content"]] == ["codeBlock", "paragraph"]
    assert note_numbers(compact) is None
    lines = compact["content"][0]["content"][0]["text"].split("\n")
    assert lines[0] == "Fact 0  value 0"
    assert compact["content"][1]["content"] == [text_node("x" * 3000)]


def test_one_huge_table_under_pressure_is_cut_as_lines(assert_valid_adf: AdfCheck) -> None:
    wide = TableRow(tuple(cell(para(Text("x" * 300)), para(Text("y" * 300))) for _ in range(3)))
    adf = render_adf(Document((Table((wide,)),)), max_chars=1200)
    assert adf_size(adf) <= 1200
    assert_valid_adf(adf, thorough=True)
    assert [block["type"] for block in adf["content"]] == ["codeBlock", "panel"]
    line = adf["content"][0]["content"][0]["text"]
    assert line.startswith("x" * 300 + " " + "y" * 300 + "  " + "x" * 100)
    assert line.endswith("…")


def test_budget_too_small_for_anything_but_the_note(assert_valid_adf: AdfCheck) -> None:
    doc = Document((Table((TableRow((cell(para(Text("x" * 2000))),)),)),))
    adf = render_adf(doc, max_chars=512, full_content_url="https://x.y/" + "p" * 600)
    assert adf_size(adf) <= 512
    assert_valid_adf(adf, thorough=True)
    assert note_numbers(adf) is not None
    # The URL did not fit, so the note goes without it.
    assert "marks" not in json.dumps(adf["content"][-1])


def test_unsafe_full_content_url_is_not_linked() -> None:
    adf = render_adf(
        Document((para(Text("x" * 5000)),)), max_chars=1000, full_content_url="javascript:x"
    )
    assert "javascript" not in json.dumps(adf)


def test_hostile_oversized_text_with_many_escapes(assert_valid_adf: AdfCheck) -> None:
    # Quotes, backslashes and tabs double in JSON; emoji count twice in UTF-16.
    nasty = '"\\\t😀' * 30_000
    adf = render_adf(Document((para(Text(nasty)), CodeBlock(nasty))))
    assert adf_size(adf) <= DEFAULT_MAX_CHARS
    assert len(json.dumps(adf, ensure_ascii=False, separators=(",", ":"))) <= DEFAULT_MAX_CHARS
    assert_valid_adf(adf)


def test_max_chars_has_a_floor() -> None:
    with pytest.raises(ValueError, match="at least 512"):
        render_adf(Document(), max_chars=100)
