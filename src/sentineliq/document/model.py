"""The neutral document tree.

Ticket descriptions are built once as this small tree and each provider renders it into its own
format (ADF for Jira Cloud). Nodes are immutable and carry no rendering knowledge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Text:
    """A run of text. `code` excludes `strong`/`em` (ADF forbids the mix); renderers enforce it."""

    text: str
    strong: bool = False
    em: bool = False
    code: bool = False
    href: str | None = None


@dataclass(frozen=True)
class HardBreak:
    pass


Inline = Text | HardBreak


@dataclass(frozen=True)
class Paragraph:
    content: tuple[Inline, ...] = ()


@dataclass(frozen=True)
class Heading:
    level: int
    content: tuple[Inline, ...]


@dataclass(frozen=True)
class CodeBlock:
    text: str
    language: str | None = None


@dataclass(frozen=True)
class Rule:
    pass


@dataclass(frozen=True)
class ListItem:
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class BulletList:
    items: tuple[ListItem, ...]


@dataclass(frozen=True)
class OrderedList:
    items: tuple[ListItem, ...]


@dataclass(frozen=True)
class TableCell:
    blocks: tuple[Block, ...]
    header: bool = False


@dataclass(frozen=True)
class TableRow:
    cells: tuple[TableCell, ...]


@dataclass(frozen=True)
class Table:
    rows: tuple[TableRow, ...]


PanelKind = Literal["info", "note", "tip", "warning", "error", "success"]


@dataclass(frozen=True)
class Panel:
    kind: PanelKind
    blocks: tuple[Block, ...]


Block = Paragraph | Heading | CodeBlock | Rule | BulletList | OrderedList | Table | Panel


@dataclass(frozen=True)
class Document:
    blocks: tuple[Block, ...] = field(default_factory=tuple)
