"""Redaction: named secret patterns masked in everything SentinelIQ sends to a ticket system.

Applied twice: to the draft (summary, description, labels, attributes) so that size limits are
measured on what is sent, and by the Jira client to every JSON body as the last line, so that a
comment or a field added later cannot carry a secret out. Each pattern also recognises the
defanged form of what it matches (`hxxps`, `[.]`, `(at)`), since redaction runs after defanging.
A marker names the pattern, so an analyst knows something was there; it has no spaces (a label
may carry it) and matches no pattern, so redacting twice changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sentineliq.document.model import (
    Block,
    BulletList,
    CodeBlock,
    Document,
    Heading,
    Inline,
    ListItem,
    OrderedList,
    Panel,
    Paragraph,
    Table,
    TableCell,
    TableRow,
    Text,
)

_AT = r"(?:@|\(at\)|\[at\]|\[@\])"
_DOT = r"(?:\.|\[\.\])"
_SCHEME_SEP = r"(?:://|\[://\]|\[:\]//)"

# (pattern name, regex, replacement). A replacement keeps what names the secret (`api_key=`,
# the user of a URL) and masks only the secret itself.
_PATTERNS: dict[str, list[tuple[re.Pattern[str], str]]] = {
    "private_keys": [
        # A whole PEM/OpenSSH block; a block cut off before its END line is masked to the end.
        (
            re.compile(
                r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"
                r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|.*)",
                re.DOTALL,
            ),
            "[redacted-private-key]",
        ),
    ],
    "jwts": [
        (
            re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
            "[redacted-jwt]",
        ),
    ],
    "aws_keys": [
        (re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA|AIDA|AROA)[A-Z0-9]{16}\b"), "[redacted-aws-key]"),
        # The secret access key has no prefix: only when named.
        (
            re.compile(
                r"(?i)(\baws_?secret_?(?:access_?)?key[\"']?\s*[:=]\s*[\"']?)"
                r"[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"
            ),
            r"\1[redacted-aws-key]",
        ),
    ],
    "url_passwords": [
        # scheme://user:password@host, also defanged (hxxps, [://], (at)). The scheme's length
        # is bounded: unbounded, "a.a.a.a…" made every letter rescan the rest (quadratic).
        (
            re.compile(
                rf"(?i)(\b[a-z][a-z0-9+.-]{{0,31}}{_SCHEME_SEP}[^\s/:@()\[\]]*:)"
                rf"(?!\[redacted-password\])[^\s/@]+?(?={_AT})"
            ),
            r"\1[redacted-password]",
        ),
    ],
    "api_tokens": [
        # Tokens whose vendor prefix makes them unambiguous.
        (
            re.compile(
                r"\b(?:"
                r"gh[pousr]_[A-Za-z0-9]{36,}"
                r"|github_pat_[A-Za-z0-9_]{40,}"
                r"|glpat-[A-Za-z0-9_-]{20,}"
                r"|xox[abposr]-[A-Za-z0-9-]{10,}"
                r"|[sr]k_(?:live|test)_[A-Za-z0-9]{16,}"
                r"|sk-(?:proj-|ant-)?[A-Za-z0-9_-]{32,}"
                r"|ATATT3[A-Za-z0-9_=-]{40,}"
                r"|AIza[0-9A-Za-z_-]{35}"
                r"|siq_[A-Za-z0-9]+_[A-Za-z0-9_-]{16,}"
                r")"
            ),
            "[redacted-api-token]",
        ),
        # Credentials in an Authorization header as logged.
        (
            re.compile(r"(?i)(\b(?:bearer|token)\s+)(?!\[redacted)[A-Za-z0-9._~+/-]{20,}=*"),
            r"\1[redacted-api-token]",
        ),
        # A named key or token with a long value: api_key=..., "client_secret": "...".
        (
            re.compile(
                r"(?i)(\b(?:api[_-]?key|api[_-]?token|access[_-]?token|auth[_-]?token"
                r"|client[_-]?secret|secret[_-]?key|x-api-key)[\"']?\s*[:=]\s*[\"']?)"
                r"(?!\[redacted)[A-Za-z0-9._~+/=-]{16,}"
            ),
            r"\1[redacted-api-token]",
        ),
    ],
    "emails": [
        (
            re.compile(rf"(?<![\w.+-])[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}[A-Za-z]{{2,}}"),
            "[redacted-email]",
        ),
    ],
}
# The settings' order (docs, CLI, admin panel); `_PATTERNS` is the order they apply in.
PATTERN_NAMES: tuple[str, ...] = (
    "api_tokens",
    "url_passwords",
    "aws_keys",
    "private_keys",
    "jwts",
    "emails",
)
assert set(PATTERN_NAMES) == set(_PATTERNS)


class Redaction(BaseModel):
    """Which named patterns are masked. Emails are off by default: an email observable is often
    the very indicator an analyst needs (and it is defanged)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    api_tokens: bool = Field(
        default=True,
        description="Vendor tokens (GitHub, Slack, ...), "
        "bearer tokens and named keys (api_key=...).",
    )
    url_passwords: bool = Field(default=True, description="The password in user:password@ URLs.")
    aws_keys: bool = Field(default=True, description="AWS access key ids and named secret keys.")
    private_keys: bool = Field(default=True, description="PEM and OpenSSH private key blocks.")
    jwts: bool = Field(default=True, description="JSON Web Tokens (eyJ...eyJ...).")
    emails: bool = Field(default=False, description="Email addresses, defanged ones included.")

    def enabled(self) -> tuple[str, ...]:
        return tuple(name for name in PATTERN_NAMES if getattr(self, name))


class Redactor:
    """Masks the enabled patterns; cheap to call on text without any (no pattern matches)."""

    def __init__(self, settings: Redaction) -> None:
        # Order matters: a private key block may contain anything, so it goes first.
        on = set(settings.enabled())
        self._rules = [rule for name, rules in _PATTERNS.items() if name in on for rule in rules]
        # One scan says whether any rule can match: most strings hold no secret, and one search
        # of the alternation costs a fraction of eight substitutions (a fifth of a bulk
        # create's CPU went to them). A rule's match is a match of the alternation at the
        # same place, so text that fails the scan is left exactly as the rules would leave it.
        self._any = (
            re.compile("|".join(f"(?:{_scoped(pattern)})" for pattern, _ in self._rules))
            if self._rules
            else None
        )

    def text(self, value: str) -> str:
        if self._any is None or self._any.search(value) is None:
            return value
        for pattern, replacement in self._rules:
            value = pattern.sub(replacement, value)
        return value

    def json(self, value: Any) -> Any:
        """Every string in a JSON value (object keys excepted: they are field names)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.json(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.json(item) for item in value]
        return value

    def document(self, document: Document) -> Document:
        return Document(tuple(_map_block(block, self.text) for block in document.blocks))


def _scoped(pattern: re.Pattern[str]) -> str:
    """The pattern's source with its flags scoped to it, so it can join an alternation."""
    flags = "".join(
        letter for flag, letter in ((re.IGNORECASE, "i"), (re.DOTALL, "s")) if pattern.flags & flag
    )
    source = pattern.pattern.removeprefix("(?i)")  # now carried by the scoped flags
    return f"(?{flags}:{source})" if flags else source


def _map_inline(inline: Inline, text: Callable[[str], str]) -> Inline:
    if isinstance(inline, Text):
        href = text(inline.href) if inline.href is not None else None
        return replace(inline, text=text(inline.text), href=href)
    return inline


def _map_inlines(inlines: tuple[Inline, ...], text: Callable[[str], str]) -> tuple[Inline, ...]:
    return tuple(_map_inline(inline, text) for inline in inlines)


def _map_blocks(blocks: tuple[Block, ...], text: Callable[[str], str]) -> tuple[Block, ...]:
    return tuple(_map_block(block, text) for block in blocks)


def _map_block(block: Block, text: Callable[[str], str]) -> Block:
    match block:
        case Paragraph(content):
            return Paragraph(_map_inlines(content, text))
        case Heading(level, content):
            return Heading(level, _map_inlines(content, text))
        case CodeBlock(code, language):
            return CodeBlock(text(code), language)
        case BulletList(items):
            return BulletList(tuple(ListItem(_map_blocks(i.blocks, text)) for i in items))
        case OrderedList(items):
            return OrderedList(tuple(ListItem(_map_blocks(i.blocks, text)) for i in items))
        case Table(rows):
            return Table(
                tuple(
                    TableRow(
                        tuple(
                            TableCell(_map_blocks(cell.blocks, text), cell.header)
                            for cell in row.cells
                        )
                    )
                    for row in rows
                )
            )
        case Panel(kind, blocks):
            return Panel(kind, _map_blocks(blocks, text))
        case _:
            return block
