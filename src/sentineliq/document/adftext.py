"""Atlassian Document Format -> plain text, for reading what people wrote in Jira (comments).

Blocks become lines (paragraphs and headings separated by a blank line, list items prefixed with
"- "), hard breaks become newlines, mentions and emoji their text; unknown nodes contribute the
text inside them, so nothing a person wrote is lost. A plain string is returned as it is (Jira's
webhooks may carry comment bodies as text)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_DEPTH = 64


def adf_plain_text(doc: Any) -> str:
    if isinstance(doc, str):
        return doc.strip()
    lines: list[str] = []
    _blocks(doc, lines, 0, "")
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


def _blocks(node: Any, lines: list[str], depth: int, prefix: str) -> None:
    if not isinstance(node, Mapping) or depth > MAX_DEPTH:
        return
    kind = node.get("type")
    content = node.get("content")
    children = content if isinstance(content, list) else []
    if kind in ("bulletList", "orderedList"):
        for number, item in enumerate(children, start=1):
            marker = "- " if kind == "bulletList" else f"{number}. "
            _blocks(item, lines, depth + 1, prefix + marker)
        lines.append("")
        return
    if kind == "listItem":
        first = True
        for child in children:
            _blocks(child, lines, depth + 1, prefix if first else " " * len(prefix))
            first = False
        return
    if kind == "rule":
        lines.append("---")
        return
    if any(isinstance(c, Mapping) and c.get("type") in _INLINE for c in children) or kind in (
        "paragraph",
        "heading",
        "codeBlock",
    ):
        text = "".join(_inline(c, depth + 1) for c in children)
        lines.append(prefix + text.replace("\n", "\n" + " " * len(prefix)))
        if not prefix:
            lines.append("")
        return
    for child in children:
        _blocks(child, lines, depth + 1, prefix)


_INLINE = frozenset({"text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status"})


def _inline(node: Any, depth: int) -> str:
    if not isinstance(node, Mapping) or depth > MAX_DEPTH:
        return ""
    kind = node.get("type")
    attrs = node.get("attrs") if isinstance(node.get("attrs"), Mapping) else {}
    assert isinstance(attrs, Mapping)
    if kind == "text":
        text = node.get("text")
        return text if isinstance(text, str) else ""
    if kind == "hardBreak":
        return "\n"
    if kind in ("mention", "emoji", "status"):
        text = attrs.get("text") or attrs.get("shortName")
        return str(text) if text else ""
    if kind == "inlineCard":
        return str(attrs.get("url") or "")
    content = node.get("content")
    return "".join(_inline(c, depth + 1) for c in content) if isinstance(content, list) else ""
