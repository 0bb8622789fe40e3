"""Reading JSON as the alert reader needs it: chunk by chunk with ijson (yajl), raw control
characters escaped, duplicate keys and excess nesting refused, and error messages that never
echo the input. alerts.parse decides what the values are (one object, an array, NDJSON).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import ijson

from sentineliq.errors import InputError

# yajl refuses raw control characters inside strings; Python's json (strict=False), which this
# reader replaced, kept them and alerts.normalize repairs them. A byte below 0x20 is never part
# of a multi-byte UTF-8 sequence, so writing it as a \u escape keeps every string's value. Tab,
# CR and LF are whitespace between tokens: they are escaped only inside strings, which
# StringEscaper tracks across chunks.
_SCAN = re.compile(rb'["\\\x00-\x1f]')
_QUOTE, _BACKSLASH = 0x22, 0x5C
_TOKEN_WHITESPACE = frozenset(b"\t\r\n")


class StringEscaper:
    """Escapes raw control bytes in a JSON text fed chunk by chunk: every one inside a string,
    and outside strings all but whitespace (which keeps invalid text invalid)."""

    __slots__ = ("_escaped", "_in_string")

    def __init__(self) -> None:
        self._in_string = False
        self._escaped = False  # the last chunk ended with a backslash inside a string

    def feed(self, chunk: bytes) -> bytes:
        out = bytearray()
        pos = 0
        if self._escaped and chunk:
            out += chunk[:1]
            pos = 1
            self._escaped = False
        while (match := _SCAN.search(chunk, pos)) is not None:
            at = match.start()
            out += chunk[pos:at]
            byte = chunk[at]
            pos = at + 1
            if byte == _QUOTE:
                self._in_string = not self._in_string
                out.append(byte)
            elif byte == _BACKSLASH:
                out.append(byte)
                if self._in_string:
                    if pos < len(chunk):
                        out.append(chunk[pos])  # the escaped character, a quote included
                        pos += 1
                    else:
                        self._escaped = True
            elif self._in_string or byte not in _TOKEN_WHITESPACE:
                out += b"\\u%04x" % byte
            else:
                out.append(byte)
        out += chunk[pos:]
        return bytes(out)


def json_problem(exc: Exception) -> str:
    """yajl's message without the echo of the input it appends (it could hold secrets)."""
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    text = str(exc)
    if text.startswith(("b'", 'b"')):
        text = text[2:]
    return text.split("\n", 1)[0].split("\\n", 1)[0].strip() or "unreadable"


class ChunkFile:
    """A file-like view of byte chunks for ijson, escaping raw control characters."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._escaper = StringEscaper()

    def read(self, size: int = -1) -> bytes:
        # ijson takes fewer bytes than it asked for; b"" is the end. read(0) is its type probe.
        if size == 0:
            return b""
        for chunk in self._chunks:
            if chunk:
                return self._escaper.feed(chunk)
        return b""


class Builder:
    """Builds one JSON value from ijson events, refusing duplicate keys and excess nesting.

    Python's json keeps the last of two equal keys while other readers keep the first: a record
    that says two things is refused, so every component sees the same alert. After a refusal the
    rest of the value is skipped (only its nesting is tracked) to find where the next one starts.
    """

    __slots__ = ("_depth", "_max_depth", "_stack", "field", "problem", "value")

    def __init__(self, max_depth: int) -> None:
        self._max_depth = max_depth
        self._depth = 0
        # One frame per open container: [container, current key, keys seen (objects only)].
        self._stack: list[list[Any]] = []
        self.value: Any = None
        self.field = ""
        self.problem: str | None = None

    def feed(self, kind: str, value: Any) -> bool:
        """Take one event; True once the value is complete (or skipped to its end)."""
        if self.problem is not None:
            if kind == "start_map" or kind == "start_array":
                self._depth += 1
            elif kind == "end_map" or kind == "end_array":
                self._depth -= 1
            return self._depth == 0
        if kind == "map_key":
            frame = self._stack[-1]
            if value in frame[2]:
                self.field = self._path(value)
                self.problem = "duplicate key"
                return False
            frame[2].add(value)
            frame[1] = value
            return False
        if kind == "start_map" or kind == "start_array":
            self._depth += 1
            if self._depth > self._max_depth:
                self.problem = f"nested too deeply (more than {self._max_depth} levels)"
                return False
            container: Any = {} if kind == "start_map" else []
            self._add(container)
            self._stack.append([container, None, set() if kind == "start_map" else None])
            return False
        if kind == "end_map" or kind == "end_array":
            self._depth -= 1
            self._stack.pop()
            return not self._stack
        self._add(value)
        return not self._stack

    def _add(self, item: Any) -> None:
        if not self._stack:
            self.value = item
            return
        frame = self._stack[-1]
        if frame[2] is not None:
            frame[0][frame[1]] = item
        else:
            frame[0].append(item)

    def _path(self, last_key: str) -> str:
        path = ""
        for container, key, keys in self._stack[:-1]:
            if keys is not None:
                path += f".{key}" if path else str(key)
            else:
                path += f"[{len(container) - 1}]"
        return f"{path}.{last_key}" if path else last_key


# What Python's json reads differently from yajl, or cannot check as it reads: an escaped
# surrogate (yajl reads a lone one as "?"), an integer yajl cannot hold, raw control bytes
# (escaped first for yajl), and a UTF-8 byte-order mark.
_SLOW_ONLY = re.compile(rb"\\u[dD][89a-fA-F]|\d{19}|[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbb\xbf")


class _DuplicateKey(InputError, ValueError):
    """A key twice in one object: the fast reader hands the record to yajl, which names it."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise _DuplicateKey
    return value


def _no_constants(_name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def _fast_decode(data: bytes, max_depth: int) -> Builder | None:
    """The common record read by Python's json (C), about 5x faster than yajl's events built
    into values in Python; None when only the yajl path can tell exactly what the record is
    (it then reads it again, for the same value or the same refusal)."""
    if data.count(b"{") + data.count(b"[") > max_depth or _SLOW_ONLY.search(data):
        return None
    try:
        value = json.loads(
            data.decode("utf-8"), object_pairs_hook=_unique_keys, parse_constant=_no_constants
        )
    except (ValueError, RecursionError):  # not JSON, not UTF-8, a duplicate key: yajl says
        return None
    builder = Builder(max_depth)
    builder.value = value
    return builder


def decode(data: bytes, max_depth: int) -> tuple[Builder | None, str | None]:
    """One complete JSON text: (the builder holding its value or refusal, None), or (None, the
    reason it is not JSON)."""
    fast = _fast_decode(data, max_depth)
    if fast is not None:
        return fast, None
    builder = Builder(max_depth)
    done = False
    try:
        for kind, value in ijson.basic_parse(StringEscaper().feed(data), use_float=True):
            if not done:  # yajl itself refuses anything after the value
                done = builder.feed(kind, value)
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        return None, f"invalid JSON: {json_problem(exc)}"
    if not done:
        return None, "invalid JSON: premature end of input"
    return builder, None
