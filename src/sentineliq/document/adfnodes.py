"""The neutral document tree as Atlassian Document Format (ADF) nodes for Jira Cloud.

Every output validates against the official ADF JSON schema and respects the rules Jira enforces
beyond it (see shared/design/jira-api-facts.md §11): no empty text nodes, `code` combines only with
`link`, no marks inside code blocks, heading levels 1-6, non-empty list items and table cells, no
nested tables, panels only of the six plain kinds. Text is always text: nothing in it is parsed as
markup, so hostile alert content cannot inject structure.

The output is lean because Jira's limit counts JSON, not text: no empty `attrs` or `marks`,
adjacent text runs with the same marks merged, and a table of more than `TABLE_MAX_ROWS` rows (each
cell costs about 80 characters of JSON) written as a code block of aligned lines.

One `Renderer` is one pass in one mode; the shrinking ladder that chooses the modes to fit Jira's
size limit is in `adf.py`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from typing import Any, Final, Literal, TypeVar
from urllib.parse import urlsplit

from sentineliq.document.model import (
    Block,
    BulletList,
    CodeBlock,
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
    Text,
)

Node = dict[str, Any]
_T = TypeVar("_T")

# Larger tables become aligned lines: a cell costs ~80 characters of JSON, a line costs its text.
TABLE_MAX_ROWS: Final = 20
# In compact mode lists and collapsed tables keep this many entries and say how many more there are.
LIST_MAX_ITEMS: Final = 50
COMPACT_MAX_ROWS: Final = 100
# Columns of aligned lines are padded to the widest cell up to this width; longer cells overflow.
_PAD_LIMIT: Final = 40
ELLIPSIS: Final = "…"
_MAX_HREF: Final = 2048  # a longer URL cannot be shortened without breaking it; keep its text only
_MAX_LANGUAGE: Final = 64
_PANEL_TYPES: Final = frozenset({"info", "note", "tip", "warning", "error", "success"})
_LINK_SCHEMES: Final = frozenset({"http", "https", "mailto"})

_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile("\r\n|[\r\x85\u2028\u2029]")
# C0/C1 controls except \t and \n, DEL and noncharacters: invisible, and some stores reject them.
_FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")
_NEEDS_CLEANING = re.compile(
    "[\ud800-\udfff\r\x85\u2028\u2029\x00-\x08\x0b-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]"
)
_WHITESPACE = re.compile(r"\s+")
VISIBLE = re.compile(r"\S")  # \s is what str.isspace() and str.split() call whitespace

_Context = Literal["doc", "panel", "cell", "item"]
# full: everything; limited: long lists and collapsed tables keep their first entries;
# compact: limited, and every table is written as aligned lines.
_Mode = Literal["full", "limited", "compact"]


class CutText(dict[str, Any]):
    """A text node whose text was shortened and ends with the ellipsis marker.

    A dict in every respect (it serialises and validates as one); the type only lets the renderer
    count shown characters without counting its own markers.
    """


class Marker(dict[str, Any]):
    """A text node the renderer adds ("… and 280 more"); not counted as shown text."""


def sanitize_text(text: str, *, newlines: bool = True) -> str:
    """Make arbitrary text safe for ADF: lone surrogates become U+FFFD, line breaks become \\n,
    and control characters (except \\t and \\n) and noncharacters are removed.

    With `newlines=False` line breaks become spaces (for one-line contexts such as headings).
    """
    if _NEEDS_CLEANING.search(text) is not None:  # most text is clean: one scan, no copies
        text = _SURROGATE.sub("\ufffd", text)
        text = _LINE_BREAK.sub("\n", text)
        text = _FORBIDDEN.sub("", text)
    return text if newlines or "\n" not in text else text.replace("\n", " ")


def safe_href(href: str | None) -> str | None:
    """The href if it is a plausible web or mail link; anything else (javascript:, data:, relative,
    empty) loses its link and stays plain text."""
    if not href:
        return None
    href = _WHITESPACE.sub("", sanitize_text(href))
    if not href or len(href) > _MAX_HREF:
        return None
    try:
        parts = urlsplit(href)
    except ValueError:
        return None
    if parts.scheme.lower() not in _LINK_SCHEMES:
        return None
    if parts.scheme.lower() != "mailto" and not parts.netloc:
        return None
    return href


def link_mark(href: str) -> Node:
    return {"type": "link", "attrs": {"href": href}}


class Renderer:
    """One rendering pass in one mode."""

    def __init__(
        self, memo: dict[tuple[str, bool], str], mode: _Mode = "full", scale: int = 1
    ) -> None:
        self.memo = memo
        self.mode: _Mode = mode
        self.scale = scale  # limits are multiplied by it
        self.limitable = False  # a list or collapsed table longer than its limit was seen

    def _sanitize(self, text: str, *, newlines: bool = True) -> str:
        key = (text, newlines)
        clean = self.memo.get(key)
        if clean is None:
            clean = self.memo[key] = sanitize_text(text, newlines=newlines)
        return clean

    def blocks(self, blocks: Iterable[Block], context: _Context) -> list[Node]:
        out: list[Node] = []
        for block in blocks:
            out.extend(self.block(block, context))
        return out

    def block(self, block: Block, context: _Context) -> list[Node]:
        # Returns a list: a block may vanish (empty list) or become several where ADF forbids it.
        match block:
            case Paragraph():
                return [self.paragraph(block.content)]
            case Heading():
                return self._heading(block, context)
            case CodeBlock():
                return [self._code_block(block)]
            case Rule():
                return [] if context == "item" else [{"type": "rule"}]
            case BulletList() | OrderedList():
                return self._list(block)
            case Table():
                if self.mode == "compact" or len(block.rows) > TABLE_MAX_ROWS:
                    return self._aligned(block)
                return self._table(block) if context == "doc" else self._flat_table(block)
            case Panel():
                return self._panel(block, context)
        raise TypeError(f"not a document block: {type(block).__name__}")

    def paragraph(self, content: Sequence[Inline]) -> Node:
        inlines = self._inlines(content, one_line=False, strong=False)
        return {"type": "paragraph", "content": inlines} if inlines else {"type": "paragraph"}

    def _heading(self, heading: Heading, context: _Context) -> list[Node]:
        if context == "item":  # list items cannot hold headings: keep the words, in bold
            inlines = self._inlines(heading.content, one_line=True, strong=True)
            return [{"type": "paragraph", "content": inlines}] if inlines else []
        inlines = self._inlines(heading.content, one_line=True, strong=False)
        if not inlines:
            return []
        level = min(6, max(1, int(heading.level)))
        return [{"type": "heading", "attrs": {"level": level}, "content": inlines}]

    def _inlines(self, content: Iterable[Inline], *, one_line: bool, strong: bool) -> list[Node]:
        out: list[Node] = []
        for inline in content:
            if isinstance(inline, HardBreak):
                if one_line:
                    _append_text(out, {"type": "text", "text": " "})
                else:
                    out.append({"type": "hardBreak"})
                continue
            text = self._sanitize(inline.text, newlines=not one_line)
            marks = _marks(inline, strong=strong)
            lines = text.split("\n") if "\n" in text else [text]  # split() would copy
            for index, line in enumerate(lines):
                if index:
                    out.append({"type": "hardBreak"})
                if line:
                    _append_text(out, _text_node(line, marks))
        return out

    def _code_block(self, block: CodeBlock) -> Node:
        node: Node = {"type": "codeBlock"}
        if block.language:
            language = _WHITESPACE.sub(" ", sanitize_text(block.language)).strip()
            if language:
                node["attrs"] = {"language": language[:_MAX_LANGUAGE]}
        text = self._sanitize(block.text)
        if text:
            node["content"] = [{"type": "text", "text": text}]
        return node

    def _list(self, block: BulletList | OrderedList) -> list[Node]:
        shown, hidden = self._limit(block.items, LIST_MAX_ITEMS)
        items = [self._item(item) for item in shown]
        if not items:
            return []
        kind = "bulletList" if isinstance(block, BulletList) else "orderedList"
        return [{"type": kind, "content": items}, *_more(hidden, "")]

    def _limit(self, entries: Sequence[_T], limit: int) -> tuple[Sequence[_T], int]:
        """The entries to show and how many are left out (only outside full mode)."""
        if len(entries) <= limit:
            return entries, 0
        self.limitable = True
        limit *= self.scale
        if self.mode == "full" or len(entries) <= limit:
            return entries, 0
        return entries[:limit], len(entries) - limit

    def _item(self, item: ListItem) -> Node:
        content = self.blocks(item.blocks, "item")
        # Jira's editor expects an item to open with text, not with a nested list.
        if not content or content[0]["type"] in ("bulletList", "orderedList"):
            content.insert(0, {"type": "paragraph"})
        return {"type": "listItem", "content": content}

    def _table(self, table: Table) -> list[Node]:
        rows: list[Node] = []
        for row in table.rows:
            cells = [self._cell(cell) for cell in row.cells]
            if cells:
                rows.append({"type": "tableRow", "content": cells})
        return [{"type": "table", "content": rows}] if rows else []

    def _cell(self, cell: TableCell) -> Node:
        content = self.blocks(cell.blocks, "cell") or [{"type": "paragraph"}]
        return {"type": "tableHeader" if cell.header else "tableCell", "content": content}

    def _aligned(self, table: Table) -> list[Node]:
        """The table as a code block of lines with aligned columns (a header row comes first)."""
        rows = [row for row in table.rows if row.cells]
        if not rows:
            return []
        lines = [[self._one_line(cell.blocks) for cell in row.cells] for row in rows]
        head: list[list[str]] = []
        if all(cell.header for cell in rows[0].cells):
            head, lines = lines[:1], lines[1:]
        body, hidden = self._limit(lines, COMPACT_MAX_ROWS)
        lines = [*head, *body]
        for line in lines:
            while line and not line[-1]:  # no trailing padding
                line.pop()
        # A cell longer than _PAD_LIMIT overflows its column rather than widen it for every line.
        widths = [
            max((len(cell) for cell in column if len(cell) <= _PAD_LIMIT), default=0)
            for column in itertools.zip_longest(*lines, fillvalue="")
        ]
        text = "\n".join(
            "  ".join(
                cell if column == len(line) - 1 else cell.ljust(widths[column])
                for column, cell in enumerate(line)
            )
            for line in lines
        )
        if VISIBLE.search(text) is None:  # only empty cells: a block of blank lines says nothing
            return []
        return [self._code_block(CodeBlock(text)), *_more(hidden, " rows")]

    def _one_line(self, blocks: Iterable[Block]) -> str:
        text = self._sanitize(_plain_text(blocks), newlines=False)
        return text.replace("\t", " ") if "\t" in text else text

    def _flat_table(self, table: Table) -> list[Node]:
        # Tables cannot nest (nor sit in panels or list items): one bullet per row instead.
        items: list[ListItem] = []
        for row in table.rows:
            blocks = tuple(block for cell in row.cells for block in cell.blocks)
            if blocks:
                items.append(ListItem(blocks))
        return self._list(BulletList(tuple(items)))

    def _panel(self, panel: Panel, context: _Context) -> list[Node]:
        if context in ("panel", "item"):  # panels cannot nest or sit in list items: keep content
            return self.blocks(panel.blocks, context)
        content = self.blocks(panel.blocks, "panel")
        if not content:
            return []
        kind = panel.kind if panel.kind in _PANEL_TYPES else "info"
        return [{"type": "panel", "attrs": {"panelType": kind}, "content": content}]


def _marks(text: Text, *, strong: bool) -> list[Node]:
    marks: list[Node] = []
    if text.code:  # code combines only with link
        marks.append({"type": "code"})
    else:
        if text.strong or strong:
            marks.append({"type": "strong"})
        if text.em:
            marks.append({"type": "em"})
    href = safe_href(text.href)
    if href is not None:
        marks.append(link_mark(href))
    return marks


def _plain_text(blocks: Iterable[Block]) -> str:
    """The words of `blocks` on one line, joined by spaces."""
    parts: list[str] = []
    for block in blocks:
        match block:
            case Paragraph() | Heading():
                part = "".join(" " if isinstance(i, HardBreak) else i.text for i in block.content)
            case CodeBlock():
                part = block.text
            case BulletList() | OrderedList():
                part = " ".join(filter(None, (_plain_text(item.blocks) for item in block.items)))
            case Table():
                rows = (
                    " ".join(filter(None, (_plain_text(cell.blocks) for cell in row.cells)))
                    for row in block.rows
                )
                part = " ".join(filter(None, rows))
            case Panel():
                part = _plain_text(block.blocks)
            case _:
                part = ""
        if part:
            parts.append(part)
    return " ".join(parts)


def _more(hidden: int, what: str) -> list[Node]:
    """The "… and 280 more" line after a shortened list or table (nothing if none is hidden)."""
    if not hidden:
        return []
    words = f"{ELLIPSIS} and {hidden:,} more{what}"
    text = Marker(type="text", text=words, marks=[{"type": "em"}])
    return [{"type": "paragraph", "content": [text]}]


def _append_text(out: list[Node], node: Node) -> None:
    """Append a text node, merged into the previous one when their marks are the same."""
    last = out[-1] if out else None
    if last is not None and last["type"] == "text" and last.get("marks") == node.get("marks"):
        out[-1] = {**node, "text": last["text"] + node["text"]}
    else:
        out.append(node)


def _text_node(text: str, marks: list[Node]) -> Node:
    node: Node = {"type": "text", "text": text}
    if marks:
        node["marks"] = list(marks)  # mark dicts are shared; nothing here mutates them
    return node
