"""Reading alert batches: one JSON object, a JSON array, or NDJSON.

Each record is read on its own, so one bad record never sinks the batch; every refusal names
the record, the field and the problem, and every repair made to accept a record is a warning
(see alerts.normalize).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sentineliq.alerts.model import Alert
from sentineliq.alerts.normalize import IngestWarning, normalize_alert


@dataclass(frozen=True)
class RecordError:
    record: int  # 1-based position in the batch; 0 when the input as a whole is unreadable
    field: str  # dotted path such as "observables[0].value"; "" for the whole record
    problem: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"record {self.record}" if self.record else "input"
        if self.line is not None:
            where += f" (line {self.line})"
        return (
            f"{where}: {self.field}: {self.problem}" if self.field else f"{where}: {self.problem}"
        )


@dataclass(frozen=True)
class ParsedRecord:
    record: int
    alert: Alert
    warnings: tuple[IngestWarning, ...] = ()
    line: int | None = None


@dataclass
class ParseResult:
    accepted: list[ParsedRecord] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)

    @property
    def refused_records(self) -> int:
        return len({error.record for error in self.errors})

    @property
    def total(self) -> int:
        return len(self.accepted) + self.refused_records


class _Unreadable(ValueError):
    """A JSON text we refuse to read, with the reason and where."""

    def __init__(self, problem: str, line: int | None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.line = line


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _decode(text: str) -> Any:
    try:
        # strict=False: a raw control character inside a string is normalized later, not refused.
        return json.loads(text, parse_constant=_refuse_constant, strict=False)
    except json.JSONDecodeError as exc:
        raise _Unreadable(f"invalid JSON: {exc.msg} at column {exc.colno}", exc.lineno) from None
    except ValueError as exc:  # NaN / Infinity
        raise _Unreadable(f"invalid JSON: {exc}", None) from None
    except RecursionError:
        raise _Unreadable("invalid JSON: nested too deeply", None) from None


def lines(text: str) -> list[str]:
    """NDJSON lines: split on \\n (a \\r before it goes too) and nothing else.

    str.splitlines() also cuts at U+2028, U+2029, U+0085, \\v, \\f and \\x1c-\\x1e, which are
    legal inside JSON strings: a record holding one would be cut in two.
    """
    parts = text.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return [part.removesuffix("\r") for part in parts]


def _is_single_document(text: str) -> bool:
    """Whether a text that failed to decode is one (broken) document rather than NDJSON.

    NDJSON's first record is complete on its first line; a pretty-printed object's is not.
    """
    first = next((line for line in lines(text) if line.strip()), "")
    try:
        _decode(first)
    except _Unreadable:
        return True
    return False


def read_records(text: str) -> Iterator[tuple[int, int | None, Any] | RecordError]:
    """Yield (record number, line, decoded JSON) or a RecordError for undecodable input."""
    text = text.removeprefix("\ufeff")  # a UTF-8 byte-order mark some tools write
    stripped = text.lstrip()
    if not stripped:
        yield RecordError(0, "", "no alerts in input (empty)")
        return
    if stripped[0] == "[":
        try:
            items = _decode(text)
        except _Unreadable as exc:
            yield RecordError(0, "", exc.problem.replace("JSON", "JSON array", 1), exc.line)
            return
        if not isinstance(items, list):
            yield RecordError(0, "", "invalid JSON array")
            return
        if not items:
            yield RecordError(0, "", "no alerts in input (empty array)")
        for number, item in enumerate(items, start=1):
            yield number, None, item
        return
    try:
        yield 1, 1, _decode(text)
        return
    except _Unreadable as exc:
        if "\n" in text.strip() and _is_single_document(text):
            yield RecordError(1, "", exc.problem, exc.line)
            return
    # Not a single document: NDJSON, one record per non-blank line.
    number = 0
    for line_number, line in enumerate(lines(text), start=1):
        if not line.strip():
            continue
        number += 1
        try:
            yield number, line_number, _decode(line)
        except _Unreadable as exc:
            yield RecordError(number, "", exc.problem, line_number)


MAX_DEPTH = 32


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether nested arrays/objects go deeper than `limit` (iterative: no recursion limit)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def parse_alerts(text: str) -> ParseResult:
    result = ParseResult()
    for item in read_records(text):
        if isinstance(item, RecordError):
            result.errors.append(item)
            continue
        number, line, value = item
        if not isinstance(value, dict):
            kind = type(value).__name__ if value is not None else "null"
            result.errors.append(
                RecordError(number, "", f"must be a JSON object, not {kind}", line)
            )
            continue
        if _deeper_than(value, MAX_DEPTH):
            # Repairs walk the record recursively; no alert field nests beyond a few levels.
            problem = f"nested too deeply (more than {MAX_DEPTH} levels)"
            result.errors.append(RecordError(number, "", problem, line))
            continue
        normalized = normalize_alert(value)
        if normalized.alert is None:
            result.errors.extend(
                RecordError(number, r.field, r.problem, line) for r in normalized.refusals
            )
            continue
        result.accepted.append(ParsedRecord(number, normalized.alert, normalized.warnings, line))
    return result
