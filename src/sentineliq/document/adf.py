"""Render the neutral document tree as an Atlassian Document Format (ADF) description within
Jira's size limit. The nodes themselves (Jira's rules, lean JSON, tables as aligned lines) come
from `adfnodes.py`; this module measures them and shrinks what does not fit.

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

import json
from collections.abc import Iterable, Sequence
from typing import Any, Final

from sentineliq.document.adfnodes import (
    COMPACT_MAX_ROWS,
    ELLIPSIS,
    LIST_MAX_ITEMS,
    TABLE_MAX_ROWS,
    VISIBLE,
    CutText,
    Marker,
    Node,
    Renderer,
    link_mark,
    safe_href,
    sanitize_text,
)
from sentineliq.document.model import Document, Text

__all__ = [
    "COMPACT_MAX_ROWS",
    "DEFAULT_MAX_CHARS",
    "LIST_MAX_ITEMS",
    "MIN_MAX_CHARS",
    "TABLE_MAX_ROWS",
    "TRUNCATION_NOTE_PREFIX",
    "Node",
    "adf_document",
    "adf_size",
    "adf_text_paragraph",
    "render_adf",
    "sanitize_text",
]

DEFAULT_MAX_CHARS: Final = 32_767
# Small enough for tests to exercise truncation cheaply, large enough for the truncation note.
MIN_MAX_CHARS: Final = 512
TRUNCATION_NOTE_PREFIX: Final = "Description truncated to fit Jira's size limit: "
# Limited renderings tried in turn: four, two, then one times those limits.
_LIMIT_SCALES: Final = (4, 2, 1)


def adf_size(value: Any) -> int:
    """The size Jira counts: compact JSON, in UTF-16 code units."""
    serialized = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return len(serialized.encode("utf-16-le", "surrogatepass")) // 2


def adf_document(blocks: Sequence[Node]) -> Node:
    return {"version": 1, "type": "doc", "content": list(blocks)}


def adf_text_paragraph(text: str) -> Node:
    """A paragraph of plain text, newlines as hard breaks (for comments and short notes)."""
    return Renderer(memo={}).paragraph((Text(text),))


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
    renderer = Renderer(memo, "full")
    full = renderer.blocks(doc.blocks, "doc")
    adf = adf_document(full)
    total = _count_text(full)
    # Serialised text is never shorter than the text itself: skip measuring hopeless documents.
    if total <= max_chars and adf_size(adf) <= max_chars:
        return adf

    envelope = adf_size(adf_document([]))
    link = safe_href(full_content_url)
    # N <= M, so formatting the note with M twice bounds its size from above.
    if link is not None and envelope + adf_size(_note(total, total, link)) > max_chars:
        link = None
    budget = max_chars - envelope - adf_size(_note(total, total, link))

    kept = None
    if renderer.limitable:  # otherwise the limited rendering is the full one, which did not fit
        for scale in _LIMIT_SCALES:  # the most entries that fit
            limited = Renderer(memo, "limited", scale).blocks(doc.blocks, "doc")
            if _cost(limited) <= budget:
                kept = limited
                break
    if kept is None:
        compact = Renderer(memo, "compact").blocks(doc.blocks, "doc")
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
        return None if isinstance(node, Marker) else _fit_text(node, budget)
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
        return CutText({**node, "text": base[:length] + ELLIPSIS})

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
    if VISIBLE.search(base, low) is None:  # only whitespace is cut off: nothing to mark
        return {**node, "text": base[:low]}
    return shortened(low)


def _count_text(blocks: Iterable[Node]) -> int:
    """Visible characters shown: text without whitespace (so the padding of aligned lines and
    the line breaks of either form do not count), ellipsis markers or "… and N more" lines."""
    count = 0
    stack = list(blocks)
    while stack:
        node = stack.pop()
        if isinstance(node, Marker):
            continue
        if node["type"] == "text":
            count += _visible(node["text"]) - (len(ELLIPSIS) if isinstance(node, CutText) else 0)
        stack.extend(node.get("content", ()))
    return count


def _visible(text: str) -> int:
    return sum(map(len, text.split()))


def _note(shown: int, total: int, link: str | None) -> Node:
    summary = f"{TRUNCATION_NOTE_PREFIX}{shown:,} of {total:,} characters shown."
    content: list[Node] = [{"type": "text", "text": summary}]
    if link is not None:
        content[0] = {"type": "text", "text": f"{summary} Full alert: "}
        content.append({"type": "text", "text": link, "marks": [link_mark(link)]})
    return {
        "type": "panel",
        "attrs": {"panelType": "note"},
        "content": [{"type": "paragraph", "content": content}],
    }
