"""A neutral rich-text document, built once and rendered per ticket system.

`model`: the immutable tree (Document of blocks: heading, paragraph of text runs with marks,
lists, table, code, panel, rule), exported here. `adf`: the renderer to Atlassian Document
Format with Jira's description budget; `schema`: the official ADF JSON schema.
"""

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

__all__ = [
    "Block",
    "BulletList",
    "CodeBlock",
    "Document",
    "HardBreak",
    "Heading",
    "Inline",
    "ListItem",
    "OrderedList",
    "Panel",
    "Paragraph",
    "Rule",
    "Table",
    "TableCell",
    "TableRow",
    "Text",
]
