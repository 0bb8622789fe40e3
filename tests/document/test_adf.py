"""ADF rendering: each Jira rule, sanitising, and the size budget."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from sentineliq.document.adf import (
    DEFAULT_MAX_CHARS,
    TRUNCATION_NOTE_PREFIX,
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
        text_node("a b"),
        text_node(" "),
        text_node("c"),
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
    doc = Document((Heading(1, (Text("Alert"),)), para(Text(long)), para(Text("tail"))))
    adf = render_adf(doc)
    assert adf_size(adf) <= DEFAULT_MAX_CHARS
    assert_valid_adf(adf)
    kinds = [block["type"] for block in adf["content"]]
    assert kinds == ["heading", "paragraph", "paragraph", "panel"]  # structure survives
    shortened = adf["content"][1]["content"][0]["text"]
    assert shortened.endswith("…")
    assert long.startswith(shortened[:-1])
    assert adf["content"][2]["content"] == [text_node("tail")]
    numbers = note_numbers(adf)
    assert numbers is not None
    shown, total = numbers
    assert total == len(long) + len("Alert") + len("tail")
    assert shown == len(shortened) - 1 + len("Alert") + len("tail")


def test_long_texts_share_the_budget() -> None:
    doc = Document((para(Text("a" * 50_000)), CodeBlock("b" * 50_000), para(Text("short"))))
    adf = render_adf(doc)
    assert adf_size(adf) <= DEFAULT_MAX_CHARS
    first = adf["content"][0]["content"][0]["text"]
    code = adf["content"][1]["content"][0]["text"]
    assert len(first) == len(code) > 10_000  # the same cap for both
    assert adf["content"][2]["content"] == [text_node("short")]
    assert adf_size(adf) > DEFAULT_MAX_CHARS - 200  # the cap is as large as fits


def test_structure_too_big_is_cut_at_the_tail(assert_valid_adf: AdfCheck) -> None:
    rows = tuple(
        TableRow((cell(para(Text(f"row {n}"))), cell(para(Text("v" * 400))))) for n in range(2000)
    )
    header = TableRow(
        (cell(para(Text("Name")), header=True), cell(para(Text("Value")), header=True))
    )
    doc = Document(
        (
            para(Text("intro " * 100)),
            Table((header, *rows)),
            Heading(2, (Text("After the table"),)),
        )
    )
    adf = render_adf(doc, full_content_url="https://alerts.example/a/1")
    assert adf_size(adf) <= DEFAULT_MAX_CHARS
    assert_valid_adf(adf)
    assert [block["type"] for block in adf["content"]] == ["paragraph", "table", "panel"]
    assert adf["content"][0]["content"] == [text_node("intro " * 100)]  # prose first, whole
    table_rows = adf["content"][1]["content"]
    assert texts(table_rows[0]) == ["Name", "Value"]
    assert 10 < len(table_rows) < 2000
    assert texts(table_rows[1]) == ["row 0", "v" * 400]
    # Every kept row keeps its two cells.
    assert {len(row["content"]) for row in table_rows} == {2}
    note = adf["content"][-1]["content"][0]["content"]
    assert note[-1] == text_node(
        "https://alerts.example/a/1",
        {"type": "link", "attrs": {"href": "https://alerts.example/a/1"}},
    )


def test_deeply_structured_content_is_cut_inside_lists(assert_valid_adf: AdfCheck) -> None:
    items = tuple(ListItem((para(Text(f"item {n} " * 20)),)) for n in range(3000))
    adf = render_adf(Document((BulletList(items),)), max_chars=5000)
    assert adf_size(adf) <= 5000
    assert_valid_adf(adf)
    assert [block["type"] for block in adf["content"]] == ["bulletList", "panel"]
    assert 10 < len(adf["content"][0]["content"]) < 3000


def test_one_huge_cell_is_emptied_or_cut_but_the_row_stays(assert_valid_adf: AdfCheck) -> None:
    wide = TableRow(tuple(cell(para(Text("x" * 300)), para(Text("y" * 300))) for _ in range(3)))
    adf = render_adf(Document((Table((wide,)),)), max_chars=1200)
    assert adf_size(adf) <= 1200
    assert_valid_adf(adf, thorough=True)
    row = adf["content"][0]["content"][0]
    assert len(row["content"]) == 3


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
