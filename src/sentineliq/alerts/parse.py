"""Reading alert batches: one JSON object, a JSON array, or NDJSON.

Each record is read on its own, so one bad record never sinks the batch; every refusal names
the record, the field and the problem, and every repair made to accept a record is a warning
(see alerts.normalize).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import ijson

from sentineliq.alerts.jsonread import Builder, ChunkFile, decode, json_problem
from sentineliq.alerts.model import Alert
from sentineliq.alerts.normalize import IngestWarning, normalize_alert
from sentineliq.errors import InputError

MAX_DEPTH = 32  # nesting within one record; no alert field nests beyond a few levels


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


class TooManyRecords(InputError):
    """The input holds more records than one request may carry; raised at the first extra one."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} records")
        self.limit = limit


_BOM = b"\xef\xbb\xbf"  # a UTF-8 byte-order mark some tools write
_WHITESPACE = b" \t\r\n"


Record = tuple[int, int | None, Any]


def _array(
    chunks: Iterator[bytes], max_records: int | None, max_depth: int
) -> Iterator[Record | RecordError]:
    """The elements of a top-level array, one by one, as they are read."""
    events = ijson.basic_parse(ChunkFile(chunks), use_float=True)
    number = 0
    builder: Builder | None = None
    depth = 0  # of the array itself: 1 inside it
    try:
        for kind, value in events:
            if builder is None:
                if depth == 0:  # the opening bracket
                    depth = 1
                    continue
                if kind == "end_array":  # the closing one; yajl still checks what follows
                    continue
                number += 1
                if max_records is not None and number > max_records:
                    raise TooManyRecords(max_records)
                builder = Builder(max_depth)
            if builder.feed(kind, value):
                if builder.problem is not None:
                    yield RecordError(number, builder.field, builder.problem)
                else:
                    yield number, None, builder.value
                builder = None
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        yield RecordError(0, "", f"invalid JSON array: {json_problem(exc)}")
        return
    if number == 0:
        yield RecordError(0, "", "no alerts in input (empty array)")


def _lines(chunks: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """NDJSON lines, numbered from 1: split at \\n only, a \\r before it dropped.

    str.splitlines() would also cut at U+2028, U+2029, U+0085, \\v, \\f and \\x1c-\\x1e, which
    are legal inside JSON strings: a record holding one would be cut in two.
    """
    buffer = bytearray()
    number = 0
    for chunk in chunks:
        buffer += chunk
        if b"\n" not in chunk:
            continue
        *complete, rest = bytes(buffer).split(b"\n")
        buffer = bytearray(rest)
        for line in complete:
            number += 1
            yield number, line.removesuffix(b"\r")
    if buffer:
        yield number + 1, bytes(buffer).removesuffix(b"\r")


def _object_or_ndjson(
    head: bytes, chunks: Iterator[bytes], max_records: int | None, max_depth: int
) -> Iterator[Record | RecordError]:
    """NDJSON when the first non-blank line is a complete JSON text, else one document."""
    buffer = bytearray(head)
    start = len(head) - len(head.lstrip(_WHITESPACE))
    while buffer.find(b"\n", start) < 0:
        chunk = next(chunks, None)
        if chunk is None:
            break
        buffer += chunk
    end = buffer.find(b"\n", start)
    first = bytes(buffer[start : end if end >= 0 else len(buffer)]).removesuffix(b"\r")
    _, problem = decode(first, max_depth)
    everything = itertools.chain([bytes(buffer)], chunks)
    if problem is not None:
        # A pretty-printed object (its first line is not complete), or nothing readable.
        events = ijson.basic_parse(ChunkFile(everything), use_float=True)
        builder = Builder(max_depth)
        done = False
        try:
            for kind, value in events:
                if not done:
                    done = builder.feed(kind, value)
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            yield RecordError(0, "", f"invalid JSON: {json_problem(exc)}")
            return
        if builder.problem is not None:
            yield RecordError(1, builder.field, builder.problem, 1)
        else:
            yield 1, 1, builder.value
        return
    number = 0
    for line_number, line in _lines(everything):
        if not line.strip(_WHITESPACE):
            continue
        number += 1
        if max_records is not None and number > max_records:
            raise TooManyRecords(max_records)
        decoded, problem = decode(line, max_depth)
        if decoded is None:
            yield RecordError(number, "", problem or "invalid JSON", line_number)
        elif decoded.problem is not None:
            yield RecordError(number, decoded.field, decoded.problem, line_number)
        else:
            yield number, line_number, decoded.value


def read_chunks(
    chunks: Iterable[bytes], *, max_records: int | None = None, max_depth: int = MAX_DEPTH
) -> Iterator[Record | RecordError]:
    """Yield (record number, line, decoded JSON) or a RecordError, reading `chunks` (UTF-8
    bytes, e.g. a request body as it arrives) only as far as the records asked for.

    Raises TooManyRecords at the first record beyond `max_records`; the rest is never read.
    A RecordError with record 0 means the input as a whole is unreadable.
    """
    source = iter(chunks)
    head = b""
    for chunk in source:
        head += chunk
        if head.removeprefix(_BOM).lstrip(_WHITESPACE):
            break
    head = head.removeprefix(_BOM)
    first = head.lstrip(_WHITESPACE)[:1]
    if not first:
        yield RecordError(0, "", "no alerts in input (empty)")
    elif first == b"[":
        yield from _array(itertools.chain([head], source), max_records, max_depth)
    elif first == b"{":
        yield from _object_or_ndjson(head, source, max_records, max_depth)
    else:
        yield RecordError(
            0, "", "expected a JSON object, an array of objects, or NDJSON (one object per line)"
        )


def read_records(
    text: str, *, max_records: int | None = None, max_depth: int = MAX_DEPTH
) -> Iterator[Record | RecordError]:
    """read_chunks over a text (the CLI reads whole files)."""
    return read_chunks(
        [text.encode("utf-8", "surrogatepass")], max_records=max_records, max_depth=max_depth
    )


def parse_alerts(
    text: str, *, max_records: int | None = None, max_depth: int = MAX_DEPTH
) -> ParseResult:
    return parse_chunks(
        [text.encode("utf-8", "surrogatepass")], max_records=max_records, max_depth=max_depth
    )


def parse_chunks(
    chunks: Iterable[bytes], *, max_records: int | None = None, max_depth: int = MAX_DEPTH
) -> ParseResult:
    """Read and normalize every record; raises TooManyRecords (see read_chunks).

    When the input is unreadable as a whole, that one error is the result: nothing read before
    it counts, as if nothing had been read.
    """
    result = ParseResult()
    for item in read_chunks(chunks, max_records=max_records, max_depth=max_depth):
        if isinstance(item, RecordError):
            if item.record == 0:
                return ParseResult(errors=[item])
            result.errors.append(item)
            continue
        number, line, value = item
        if not isinstance(value, dict):
            kind = type(value).__name__ if value is not None else "null"
            result.errors.append(
                RecordError(number, "", f"must be a JSON object, not {kind}", line)
            )
            continue
        normalized = normalize_alert(value)
        if normalized.alert is None:
            result.errors.extend(
                RecordError(number, r.field, r.problem, line) for r in normalized.refusals
            )
            continue
        result.accepted.append(ParsedRecord(number, normalized.alert, normalized.warnings, line))
    return result
