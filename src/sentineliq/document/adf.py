"""Render the neutral document tree as Atlassian Document Format (ADF) for Jira Cloud.

Every output validates against the official ADF JSON schema and respects the rules Jira enforces
beyond it (see shared/design/jira-api-facts.md §11): no empty text nodes, `code` combines only with
`link`, no marks inside code blocks, heading levels 1-6, non-empty list items and table cells, no
nested tables, panels only of the six plain kinds. Text is always text: nothing in it is parsed as
markup, so hostile alert content cannot inject structure.

Jira refuses a description over 32,767 characters. The size is measured on the compact JSON in
UTF-16 code units (what Java's String.length() counts, so an emoji counts twice); that is never less
than Python's len(), so the documented len() bound holds too. An oversized document is truncated in
two steps, both without quadratic re-serialisation:

1. Cap every long text run at the same length, found by binary search, so all structure (facts,
   tables, links) survives and only the longest texts shrink.
2. If the structure alone is too big even with texts capped at `_MIN_TEXT_CAP`, cap texts at the
   more generous `_TAIL_TEXT_CAP` (early prose matters more than the 500th table row), keep blocks
   in document order and cut the first one that does not fit (rows, items, then text inside it).

Either way a visible note panel ends the document saying how much text is shown.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Final, Literal
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

DEFAULT_MAX_CHARS: Final = 32_767
# Small enough for tests to exercise truncation cheaply, large enough for the truncation note.
MIN_MAX_CHARS: Final = 512
TRUNCATION_NOTE_PREFIX: Final = "Description truncated to fit Jira's size limit: "

# Texts are never capped below this in step 1; shorter caps would gut every table cell.
_MIN_TEXT_CAP: Final = 300
# Used when structure must be cut anyway: roughly a screenful of prose per text run.
_TAIL_TEXT_CAP: Final = 2000
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

_Context = Literal["doc", "panel", "cell", "item"]


class _CutText(dict[str, Any]):
    """A text node whose text was shortened and ends with the ellipsis marker.

    A dict in every respect (it serialises and validates as one); the type only lets the renderer
    count shown characters without counting its own markers.
    """


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
    return _Renderer(cap=None, memo={}).paragraph((Text(text),))


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
    passes = _Passes(doc.blocks)
    full = passes.full_nodes()
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

    kept = passes.shrink_texts(budget)
    if kept is None:
        kept = _cut_tail(passes.nodes_at(_TAIL_TEXT_CAP), budget)
    return adf_document([*kept, _note(_count_text(kept), total, link)])


# --- truncation ---------------------------------------------------------------------------------


def _cost(blocks: Iterable[Node]) -> int:
    # Each kept block is followed by a comma (the note comes last).
    return sum(adf_size(block) + 1 for block in blocks)


class _Passes:
    """The top-level blocks rendered once in full, re-rendered at a text cap only where it bites.

    A block whose longest text run is within the cap renders the same as in full, so each probe of
    the binary search re-renders only the blocks holding long texts.
    """

    def __init__(self, blocks: Sequence[Block]) -> None:
        self.blocks = blocks
        self.memo: dict[tuple[str, bool], str] = {}  # sanitised texts, shared by every pass
        self.full: list[list[Node]] = []
        self.longest: list[int] = []
        for block in blocks:
            renderer = _Renderer(cap=None, memo=self.memo)
            self.full.append(renderer.block(block, "doc"))
            self.longest.append(renderer.longest)
        self._full_costs: dict[int, int] = {}  # measured lazily: huge documents stop early

    def full_nodes(self) -> list[Node]:
        return [node for nodes in self.full for node in nodes]

    def _at(self, index: int, cap: int) -> tuple[list[Node], int | None]:
        """Block `index` with texts capped at `cap`, and its cost if already known."""
        if self.longest[index] <= cap:
            if index not in self._full_costs:
                self._full_costs[index] = _cost(self.full[index])
            return self.full[index], self._full_costs[index]
        return _Renderer(cap=cap, memo=self.memo).block(self.blocks[index], "doc"), None

    def nodes_at(self, cap: int) -> Iterator[Node]:
        for index in range(len(self.blocks)):
            yield from self._at(index, cap)[0]

    def fitting_at(self, cap: int, budget: int) -> list[Node] | None:
        """The nodes with texts capped at `cap` if they fit in `budget` (stops early)."""
        cost = 0
        out: list[Node] = []
        for index in range(len(self.blocks)):
            nodes, known = self._at(index, cap)
            cost += _cost(nodes) if known is None else known
            if cost > budget:
                return None
            out.extend(nodes)
        return out

    def shrink_texts(self, budget: int) -> list[Node] | None:
        """The nodes with texts capped at the largest length that fits, or None if none does."""
        longest = max(self.longest, default=0)
        if longest <= _MIN_TEXT_CAP:
            return None
        best = self.fitting_at(_MIN_TEXT_CAP, budget)
        if best is None:
            return None
        # The full render (cap = longest) did not fit, and no run longer than the budget can.
        fits, too_big = _MIN_TEXT_CAP, min(longest, budget + 1)
        while too_big - fits > 1:
            cap = (fits + too_big) // 2
            nodes = self.fitting_at(cap, budget)
            if nodes is not None:
                fits, best = cap, nodes
            else:
                too_big = cap
        return best


def _cut_tail(blocks: Iterable[Node], budget: int) -> list[Node]:
    kept: list[Node] = []
    used = 0
    for block in blocks:
        cost = adf_size(block) + 1
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
        return _fit_text(node, budget)
    if kind == "tableRow":
        return _fit_row(node, budget)
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
    if kind in ("tableCell", "tableHeader"):
        empty = {**node, "content": [{"type": "paragraph"}]}
        return empty if adf_size(empty) <= budget else None
    # Lists, items, panels and tables need a child; an emptied paragraph or code block says nothing.
    return None


def _fit_text(node: Node, budget: int) -> Node | None:
    text: str = node["text"]
    base = text[: -len(_ELLIPSIS)] if isinstance(node, _CutText) else text

    def shortened(length: int) -> Node:
        return _CutText({**node, "text": base[:length] + _ELLIPSIS})

    # Largest prefix length that fits; the whole base never does (the node itself did not fit).
    low, high = 0, len(base)
    while high - low > 1:
        mid = (low + high) // 2
        if adf_size(shortened(mid)) <= budget:
            low = mid
        else:
            high = mid
    return shortened(low) if low >= 1 else None


def _fit_row(row: Node, budget: int) -> Node | None:
    # A row keeps all its cells so the table stays rectangular; cells that do not fit are emptied.
    cells: list[Node] = row["content"]
    if not cells:
        return None
    empties = [{**cell, "content": [{"type": "paragraph"}]} for cell in cells]
    empty_sizes = [adf_size(empty) for empty in empties]
    floor = adf_size({**row, "content": []}) + sum(empty_sizes) + len(cells) - 1
    if floor > budget:
        return None
    spare = budget - floor
    out: list[Node] = []
    emptied = 0
    for cell, empty, empty_size in zip(cells, empties, empty_sizes, strict=True):
        part = _fit(cell, empty_size + spare)
        if part is None:
            part = empty
            emptied += 1
        spare -= adf_size(part) - empty_size
        out.append(part)
    return None if emptied == len(cells) else {**row, "content": out}


def _count_text(blocks: Iterable[Node]) -> int:
    """Characters of text shown: text nodes plus one per hard break, without ellipsis markers."""
    count = 0
    stack = list(blocks)
    while stack:
        node = stack.pop()
        kind = node["type"]
        if kind == "text":
            count += len(node["text"]) - (len(_ELLIPSIS) if isinstance(node, _CutText) else 0)
        elif kind == "hardBreak":
            count += 1
        stack.extend(node.get("content", ()))
    return count


def _note(shown: int, total: int, link: str | None) -> Node:
    summary = f"{TRUNCATION_NOTE_PREFIX}{shown:,} of {total:,} characters shown."
    content: list[Node] = [{"type": "text", "text": summary}]
    if link is not None:
        content.append({"type": "text", "text": " Full alert: "})
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
    """One rendering pass; `cap` shortens every text run longer than it (None: no cap)."""

    def __init__(self, cap: int | None, memo: dict[tuple[str, bool], str]) -> None:
        self.cap = cap
        self.memo = memo
        self.longest = 0  # longest text run seen, the upper bound of a useful cap

    def _sanitize(self, text: str, *, newlines: bool = True) -> str:
        key = (text, newlines)
        clean = self.memo.get(key)
        if clean is None:
            clean = self.memo[key] = sanitize_text(text, newlines=newlines)
        return clean

    def _clip(self, text: str) -> tuple[str, bool]:
        self.longest = max(self.longest, len(text))
        if self.cap is not None and len(text) > self.cap:
            return text[: self.cap], True
        return text, False

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
                out.append({"type": "text", "text": " "} if one_line else {"type": "hardBreak"})
                continue
            text, cut = self._clip(self._sanitize(inline.text, newlines=not one_line))
            marks = _marks(inline, strong=strong)
            lines = text.split("\n") if "\n" in text else [text]  # split() would copy
            for index, line in enumerate(lines):
                if index:
                    out.append({"type": "hardBreak"})
                last = index == len(lines) - 1
                if last and cut:
                    out.append(_text_node(line + _ELLIPSIS, marks, cut=True))
                elif line:
                    out.append(_text_node(line, marks, cut=False))
        return out

    def _code_block(self, block: CodeBlock) -> Node:
        node: Node = {"type": "codeBlock"}
        if block.language:
            language = _WHITESPACE.sub(" ", sanitize_text(block.language)).strip()
            if language:
                node["attrs"] = {"language": language[:_MAX_LANGUAGE]}
        text, cut = self._clip(self._sanitize(block.text))
        if cut:
            node["content"] = [_CutText({"type": "text", "text": text + _ELLIPSIS})]
        elif text:
            node["content"] = [{"type": "text", "text": text}]
        return node

    def _list(self, block: BulletList | OrderedList) -> list[Node]:
        items = [self._item(item) for item in block.items]
        if not items:
            return []
        kind = "bulletList" if isinstance(block, BulletList) else "orderedList"
        return [{"type": kind, "content": items}]

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


def _text_node(text: str, marks: list[Node], *, cut: bool) -> Node:
    node: Node = _CutText(type="text", text=text) if cut else {"type": "text", "text": text}
    if marks:
        node["marks"] = list(marks)  # mark dicts are shared; nothing here mutates them
    return node
