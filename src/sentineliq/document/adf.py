"""Render the neutral document tree as Atlassian Document Format (ADF) for Jira Cloud.

Every output validates against the official ADF JSON schema and respects the rules Jira enforces
beyond it (see shared/design/jira-api-facts.md §11): no empty text nodes, `code` combines only with
`link`, no marks inside code blocks, heading levels 1-6, non-empty list items and table cells, no
nested tables, panels only of the six plain kinds. Text is always text: nothing in it is parsed as
markup, so hostile alert content cannot inject structure.

The output is lean because Jira's limit counts JSON, not text: no empty `attrs` or `marks`,
adjacent text runs with the same marks merged, and a table of more than `TABLE_MAX_ROWS` rows (each
cell costs about 80 characters of JSON) written as a code block of aligned lines.

Jira refuses a description over 32,767 characters. The size is measured on the compact JSON in
UTF-16 code units (what Java's String.length() counts, so an emoji counts twice); that is never less
than Python's len(), so the documented len() bound holds too. An oversized document is rendered
again, smaller:

1. If keeping the first `LIST_MAX_ITEMS` items of each list and the first `COMPACT_MAX_ROWS` lines
   of each collapsed table (each followed by "… and N more") makes it fit, that is the answer;
   four and then two times as many are tried first.
2. Otherwise every table is also written as aligned lines. If that is still too large, each run
   of plain top-level paragraphs becomes one text whose paragraphs are separated by a blank line
   (a paragraph node costs ~60 characters of JSON, a blank line in text 4; Jira shows text with
   `white-space: pre-wrap`, so it reads the same). Then the budget is shared out like water:
   each run of consecutive paragraphs (prose) and every other top-level block is a part; parts
   within the share stay whole and leave what they do not need to the others; larger parts are cut
   from their end (prose as late as fits, lists and lines after their last entry). So a long
   description keeps its opening whole and cannot crowd out the sections after it, and nothing
   is re-serialised quadratically.

Whenever anything is left out, a visible note panel ends the document saying how many of its
visible (non-whitespace) characters are shown; whitespace does not count, as the two forms of a
table differ only in it.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any, Final, Literal, TypeVar
from urllib.parse import urlsplit

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
    Text,
)

Node = dict[str, Any]
_T = TypeVar("_T")

DEFAULT_MAX_CHARS: Final = 32_767
# Small enough for tests to exercise truncation cheaply, large enough for the truncation note.
MIN_MAX_CHARS: Final = 512
TRUNCATION_NOTE_PREFIX: Final = "Description truncated to fit Jira's size limit: "

# Larger tables become aligned lines: a cell costs ~80 characters of JSON, a line costs its text.
TABLE_MAX_ROWS: Final = 20
# In compact mode lists and collapsed tables keep this many entries and say how many more there are.
LIST_MAX_ITEMS: Final = 50
COMPACT_MAX_ROWS: Final = 100
# Columns of aligned lines are padded to the widest cell up to this width; longer cells overflow.
_PAD_LIMIT: Final = 40
# Limited renderings tried in turn: four, two, then one times those limits.
_LIMIT_SCALES: Final = (4, 2, 1)
_ELLIPSIS: Final = "…"
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
_VISIBLE = re.compile(r"\S")  # \s is what str.isspace() and str.split() call whitespace

_Context = Literal["doc", "panel", "cell", "item"]
# full: everything; limited: long lists and collapsed tables keep their first entries;
# compact: limited, and every table is written as aligned lines.
_Mode = Literal["full", "limited", "compact"]


class _CutText(dict[str, Any]):
    """A text node whose text was shortened and ends with the ellipsis marker.

    A dict in every respect (it serialises and validates as one); the type only lets the renderer
    count shown characters without counting its own markers.
    """


class _Marker(dict[str, Any]):
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


def adf_size(value: Any) -> int:
    """The size Jira counts: compact JSON, in UTF-16 code units."""
    serialized = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return len(serialized.encode("utf-16-le", "surrogatepass")) // 2


def adf_document(blocks: Sequence[Node]) -> Node:
    return {"version": 1, "type": "doc", "content": list(blocks)}


def adf_text_paragraph(text: str) -> Node:
    """A paragraph of plain text, newlines as hard breaks (for comments and short notes)."""
    return _Renderer(memo={}).paragraph((Text(text),))


def render_adf(
    doc: Document,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    full_content_url: str | None = None,
) -> Node:
    """Render `doc` as an ADF document whose serialised size is at most `max_chars`.

    When the document must be truncated, a note panel is appended; it links `full_content_url`
    (typically the alert in its source system) when given and when it fits. Never raises for
    oversized or hostile content.
    """
    if max_chars < MIN_MAX_CHARS:
        raise ValueError(f"max_chars must be at least {MIN_MAX_CHARS}")
    memo: dict[tuple[str, bool], str] = {}  # sanitised texts, shared by every rendering
    renderer = _Renderer(memo, "full")
    full = renderer.blocks(doc.blocks, "doc")
    adf = adf_document(full)
    total = _count_text(full)
    # Serialised text is never shorter than the text itself: skip measuring hopeless documents.
    if total <= max_chars and adf_size(adf) <= max_chars:
        return adf

    envelope = adf_size(adf_document([]))
    link = _safe_href(full_content_url)
    # N <= M, so formatting the note with M twice bounds its size from above.
    if link is not None and envelope + adf_size(_note(total, total, link)) > max_chars:
        link = None
    budget = max_chars - envelope - adf_size(_note(total, total, link))

    kept = None
    if renderer.limitable:  # otherwise the limited rendering is the full one, which did not fit
        for scale in _LIMIT_SCALES:  # the most entries that fit
            limited = _Renderer(memo, "limited", scale).blocks(doc.blocks, "doc")
            if _cost(limited) <= budget:
                kept = limited
                break
    if kept is None:
        compact = _Renderer(memo, "compact").blocks(doc.blocks, "doc")
        # Each block is measured once; `compact` stays alive, so no new block can reuse an id.
        sizes = {id(block): adf_size(block) for block in compact}
        merged = compact
        if sum(sizes.values()) + len(compact) > budget:
            merged = _merge_prose(compact)
        kept = _share(merged, budget, sizes)
    shown = _count_text(kept)
    if shown >= total:  # only the form changed (tables as lines): nothing to own up to
        return adf_document(kept)
    return adf_document([*kept, _note(shown, total, link)])


# --- truncation ---------------------------------------------------------------------------------


def _cost(blocks: Iterable[Node], sizes: dict[int, int] | None = None) -> int:
    """Serialised size of `blocks` as top-level blocks; `sizes` holds known sizes by id()."""
    # Each kept block is followed by a comma (the note comes last).
    known = sizes or {}
    return sum((known.get(id(block)) or adf_size(block)) + 1 for block in blocks)


def _share(blocks: list[Node], budget: int, sizes: dict[int, int] | None = None) -> list[Node]:
    """`blocks` within `budget`, shared out like water between the parts of the document.

    A part is a run of consecutive paragraphs (prose) or any other block. Parts within the share
    stay whole and leave what they do not need to the others; larger parts are cut from their end,
    so a long text no longer crowds out every section after it.
    """
    parts: list[list[Node]] = []
    for block in blocks:
        if block["type"] == "paragraph" and parts and parts[-1][-1]["type"] == "paragraph":
            parts[-1].append(block)
        else:
            parts.append([block])
    costs = [_cost(part, sizes) for part in parts]
    share = _water_level(costs, budget)
    kept: list[Node] = []
    for part, cost in zip(parts, costs, strict=True):
        kept += part if cost <= share else _cut_tail(part, share, sizes)
    return kept


def _merge_prose(blocks: list[Node]) -> list[Node]:
    r"""Each run of consecutive plain top-level paragraphs merged into one text.

    A paragraph node costs about 60 characters of JSON, a hardBreak about 47 with the text node
    it splits, a line break inside text 2 (its JSON escape). So paragraph boundaries become a
    blank line ("\n\n") and hard breaks a "\n" inside the text. Jira's renderer shows text with
    `white-space: pre-wrap`, so this reads like the paragraphs it replaces. Only plain paragraphs
    (unmarked text and hard breaks) are merged: links, code, emphasis, empty paragraphs and the
    "… and N more" lines stay as they are.
    """
    out: list[Node] = []
    run: list[str] = []
    for block in [*blocks, {"type": "rule"}]:  # the sentinel ends the last run
        text = _plain_paragraph(block)
        if text is not None:
            run.append(text)
            continue
        if run:
            out.append(
                {"type": "paragraph", "content": [{"type": "text", "text": "\n\n".join(run)}]}
            )
            run = []
        out.append(block)
    return out[:-1]


def _plain_paragraph(block: Node) -> str | None:
    """The text of a non-empty paragraph of unmarked text and hard breaks, else None."""
    if block["type"] != "paragraph" or not block.get("content"):
        return None
    parts: list[str] = []
    for node in block["content"]:
        if node["type"] == "hardBreak":
            parts.append("\n")
        elif node["type"] == "text" and "marks" not in node:
            parts.append(node["text"])
        else:
            return None
    return "".join(parts)


def _water_level(costs: Sequence[int], budget: int) -> int:
    """The largest share s with sum(min(cost, s) for cost in costs) <= budget."""
    remaining = budget
    ordered = sorted(costs)
    for index, cost in enumerate(ordered):
        parts = len(ordered) - index
        if cost * parts > remaining:
            return remaining // parts
        remaining -= cost
    return ordered[-1] if ordered else 0


def _cut_tail(
    blocks: Iterable[Node], budget: int, sizes: dict[int, int] | None = None
) -> list[Node]:
    kept: list[Node] = []
    used = 0
    for block in blocks:
        cost = _cost((block,), sizes)
        if used + cost <= budget:
            kept.append(block)
            used += cost
            continue
        part = _fit(block, budget - used - 1)
        if part is not None:
            kept.append(part)
        break
    return kept


def _fit(node: Node, budget: int) -> Node | None:
    """`node` shortened from its end to serialise within `budget`; None if nothing useful fits."""
    if adf_size(node) <= budget:
        return node
    kind = node["type"]
    if kind == "text":
        return None if isinstance(node, _Marker) else _fit_text(node, budget)
    content: list[Node] = node.get("content") or []
    used = adf_size({**node, "content": []})
    kept: list[Node] = []
    for child in content:
        comma = 1 if kept else 0
        cost = adf_size(child) + comma
        if used + cost <= budget:
            kept.append(child)
            used += cost
            continue
        part = _fit(child, budget - used - comma)
        if part is not None:
            kept.append(part)
        break
    if kept:
        return {**node, "content": kept}
    # Lists, items and panels need a child; an emptied paragraph or code block says nothing.
    # (Tables never get here: in compact mode they are code blocks.)
    return None


def _fit_text(node: Node, budget: int) -> Node | None:
    base: str = node["text"]

    def shortened(length: int) -> Node:
        return _CutText({**node, "text": base[:length] + _ELLIPSIS})

    # Largest prefix length that fits; the whole base never does (the node itself did not fit).
    # Every character costs at least one unit: a prefix `slack` units under the budget fits no
    # more than `slack` more characters, and one `excess` units over fits with `excess` fewer.
    # So for plain text the first guess is the answer and escapes cost a few more measurements.
    room = budget - adf_size(shortened(0))
    low, high = 0, min(len(base), room + 1)  # low fits (or is 0), high does not
    guess = high - 1
    while high - low > 1:
        size = adf_size(shortened(guess))
        if size <= budget:
            low, high = guess, min(high, guess + budget - size + 1)
        else:
            low, high = max(low, guess - (size - budget)), guess
        guess = (low + high) // 2
    if low < 1:
        return None
    if _VISIBLE.search(base, low) is None:  # only whitespace is cut off: nothing to mark
        return {**node, "text": base[:low]}
    return shortened(low)


def _count_text(blocks: Iterable[Node]) -> int:
    """Visible characters shown: text without whitespace (so the padding of aligned lines and
    the line breaks of either form do not count), ellipsis markers or "… and N more" lines."""
    count = 0
    stack = list(blocks)
    while stack:
        node = stack.pop()
        if isinstance(node, _Marker):
            continue
        if node["type"] == "text":
            count += _visible(node["text"]) - (len(_ELLIPSIS) if isinstance(node, _CutText) else 0)
        stack.extend(node.get("content", ()))
    return count


def _visible(text: str) -> int:
    return sum(map(len, text.split()))


def _note(shown: int, total: int, link: str | None) -> Node:
    summary = f"{TRUNCATION_NOTE_PREFIX}{shown:,} of {total:,} characters shown."
    content: list[Node] = [{"type": "text", "text": summary}]
    if link is not None:
        content[0] = {"type": "text", "text": f"{summary} Full alert: "}
        content.append({"type": "text", "text": link, "marks": [_link_mark(link)]})
    return {
        "type": "panel",
        "attrs": {"panelType": "note"},
        "content": [{"type": "paragraph", "content": content}],
    }


# --- rendering ----------------------------------------------------------------------------------


def _safe_href(href: str | None) -> str | None:
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


def _link_mark(href: str) -> Node:
    return {"type": "link", "attrs": {"href": href}}


class _Renderer:
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
        if _VISIBLE.search(text) is None:  # only empty cells: a block of blank lines says nothing
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
    href = _safe_href(text.href)
    if href is not None:
        marks.append(_link_mark(href))
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
    words = f"{_ELLIPSIS} and {hidden:,} more{what}"
    text = _Marker(type="text", text=words, marks=[{"type": "em"}])
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
