"""Jira's text limits: what a summary, a label or a text field may hold.

Pure: no I/O. Summary one line and at most 255 characters (Java counts UTF-16 units, so an emoji
counts twice), labels without spaces and at most 255 characters each.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sentineliq.document.adf import sanitize_text

SUMMARY_MAX = 255
LABEL_MAX = 255
TEXTFIELD_MAX = 255
ELLIPSIS = "…"

_WHITESPACE = re.compile(r"\s+")
# Labels keep letters, digits and a few separators; anything else (quotes, commas, brackets,
# control characters) breaks JQL label searches or Jira's label picker.
_LABEL_DROP = re.compile(r"[^\w.:@#+=&/-]")
_DASHES = re.compile(r"-{2,}")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def cut(text: str, limit: int) -> str:
    """`text` if it fits in `limit` UTF-16 units, else cut to `limit - 1` and ended with "…"."""
    if utf16_len(text) <= limit:
        return text
    budget = limit - 1
    out: list[str] = []
    used = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if used + width > budget:
            break
        out.append(char)
        used += width
    return "".join(out).rstrip() + ELLIPSIS


def sanitize_line(text: str) -> str:
    """Sanitized for Jira and collapsed to one line: newlines and runs of whitespace -> " "."""
    return _WHITESPACE.sub(" ", sanitize_text(text, newlines=False)).strip()


def summary_of(text: str) -> str:
    return cut(sanitize_line(text), SUMMARY_MAX) or "Untitled alert"


def sanitize_label(raw: str) -> str | None:
    """Whitespace -> "-", awkward characters removed, at most 255 characters; None if empty."""
    label = _WHITESPACE.sub("-", sanitize_text(raw, newlines=False).strip())
    label = _DASHES.sub("-", _LABEL_DROP.sub("", label)).strip("-")
    if not label:
        return None
    while utf16_len(label) > LABEL_MAX:  # no ellipsis: labels are identifiers, not prose
        label = label[:-1]
    return label


def sanitize_labels(raws: Sequence[str]) -> list[str]:
    """Sanitized, deduplicated case-insensitively, first spelling and order kept."""
    seen: set[str] = set()
    out: list[str] = []
    for raw in raws:
        label = sanitize_label(raw)
        if label is not None and label.casefold() not in seen:
            seen.add(label.casefold())
            out.append(label)
    return out
