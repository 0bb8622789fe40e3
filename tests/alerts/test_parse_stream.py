"""The streaming reader: caps enforced while reading, duplicate keys refused, and the same
values as Python's json for everything both accept."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentineliq.alerts.parse import (
    RecordError,
    TooManyRecords,
    parse_alerts,
    parse_chunks,
    read_chunks,
)

ALERT = {
    "title": "Suspicious login",
    "severity": "high",
    "source": "SIEM",
    "detected_at": "2026-11-27T08:00:00Z",
}


class CountingBody:
    """A body as chunks from a generator, counting what the reader took."""

    def __init__(self, records: int, *, ndjson: bool = False, chunk_records: int = 100) -> None:
        self.records = records
        self.ndjson = ndjson
        self.chunk_records = chunk_records
        self.taken = 0  # records handed to the reader

    def __iter__(self) -> Iterator[bytes]:
        record = json.dumps(ALERT).encode()
        if not self.ndjson:
            yield b"["
        for start in range(0, self.records, self.chunk_records):
            count = min(self.chunk_records, self.records - start)
            self.taken += count
            if self.ndjson:
                yield b"\n".join([record] * count) + b"\n"
            else:
                separator = b"" if start == 0 else b","
                yield separator + b",".join([record] * count)
        if not self.ndjson:
            yield b"]"


@pytest.mark.parametrize("ndjson", [False, True])
def test_a_million_records_stop_at_the_first_one_over_the_cap(ndjson: bool) -> None:
    body = CountingBody(1_000_000, ndjson=ndjson)
    with pytest.raises(TooManyRecords) as raised:
        parse_chunks(body, max_records=1000)
    assert raised.value.limit == 1000
    # Record 1,001 was read (in the 11th chunk of 100), nothing after its chunk.
    assert body.taken == 1100


def test_the_cap_allows_exactly_the_cap() -> None:
    body = CountingBody(1000)
    result = parse_chunks(body, max_records=1000)
    assert len(result.accepted) == 1000
    assert result.errors == []


@pytest.mark.parametrize(
    "bomb",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 100_000 + "1" + "}" * 100_000,
    ],
)
def test_depth_bombs_are_refused_as_records_without_recursion(bomb: str) -> None:
    assert [str(e) for e in parse_alerts(bomb).errors] == [
        "record 1 (line 1): nested too deeply (more than 32 levels)"
        if bomb.startswith("{")
        else "record 1: nested too deeply (more than 32 levels)"
    ]
    # In NDJSON, the neighbours survive.
    text = json.dumps(ALERT) + "\n" + bomb + "\n" + json.dumps(ALERT) + "\n"
    result = parse_alerts(text)
    assert [r.record for r in result.accepted] == [1, 3]
    assert [str(e) for e in result.errors] == [
        "record 2 (line 2): nested too deeply (more than 32 levels)"
    ]


def test_the_depth_limit_is_a_parameter() -> None:
    record = {**ALERT, "extra": {"a": {"b": {"c": 1}}}}  # 4 levels
    assert parse_alerts(json.dumps(record), max_depth=4).errors == []
    assert [str(e) for e in parse_alerts(json.dumps(record), max_depth=3).errors] == [
        "record 1 (line 1): nested too deeply (more than 3 levels)"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"title": "x", "severity": "low", "severity": "critical"}',
            "record 1 (line 1): severity: duplicate key",
        ),
        (
            '[{"title": "x", "evidence": [{"name": "a"}, '
            '{"name": "b", "hashes": {"sha256": "1", "sha256": "2"}}]}]',
            "record 1: evidence[1].hashes.sha256: duplicate key",
        ),
        (
            json.dumps(ALERT) + '\n{"x": [[{"k": 1, "k": 1}]]}\n',
            "record 2 (line 2): x[0][0].k: duplicate key",
        ),
    ],
)
def test_duplicate_keys_refuse_the_record_naming_the_key(text: str, expected: str) -> None:
    result = parse_alerts(text)
    assert [str(e) for e in result.errors] == [expected]


def test_a_duplicate_key_refuses_only_its_record() -> None:
    duplicated = json.dumps(ALERT).replace(
        '"severity": "high"', '"severity": "low", "severity": "high"'
    )
    array = "[" + ",".join([json.dumps(ALERT), duplicated, json.dumps(ALERT)]) + "]"
    result = parse_alerts(array)
    assert [r.record for r in result.accepted] == [1, 3]
    assert [str(e) for e in result.errors] == ["record 2: severity: duplicate key"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("hello", "expected a JSON object, an array of objects, or NDJSON (one object per line)"),
        ("42", "expected a JSON object, an array of objects, or NDJSON (one object per line)"),
        ('"alert"', "expected a JSON object, an array of objects, or NDJSON (one object per line)"),
        ('{"title": "x"', "invalid JSON: parse error: premature EOF"),
        ('[{"title": "x"}, {"title"', "invalid JSON array: parse error: premature EOF"),
        ('[{"title": "x"}] trailing', "invalid JSON array: parse error: trailing garbage"),
        ("\xff", "expected a JSON object, an array of objects, or NDJSON (one object per line)"),
    ],
)
def test_unreadable_input_is_one_error_for_the_whole_input(text: str, problem: str) -> None:
    result = parse_alerts(text)
    assert result.accepted == []
    assert result.errors == [RecordError(0, "", problem)]


def test_records_before_an_unreadable_end_do_not_count() -> None:
    text = "[" + json.dumps(ALERT) + "," + json.dumps(ALERT)[:20]
    result = parse_alerts(text)
    assert result.accepted == []
    assert [e.record for e in result.errors] == [0]


def test_raw_tabs_and_control_characters_in_one_line_records_are_read() -> None:
    # Careless senders write them raw; Python's json (strict=False) read them, so does this.
    record = json.dumps({**ALERT, "description": "a\tb\rc\u0001d"})
    raw = record.replace("\\t", "\t").replace("\\r", "\r").replace("\\u0001", "\x01")
    assert "\t" in raw
    for text in (raw, json.dumps(ALERT) + "\n" + raw + "\n"):
        result = parse_alerts(text)
        assert result.errors == []
        assert result.accepted[-1].alert.description == "a\tb\rc d"


def test_raw_control_characters_inside_strings_are_read_at_every_chunk_boundary() -> None:
    # Pretty-printed arrays and objects too, however the body is cut into network reads: raw
    # whitespace inside a string is escaped, between tokens it stays whitespace.
    description = 'a\tb\r\nc\x01 "quoted\\" \\'
    pretty = json.dumps([{**ALERT, "description": description}], indent="\t")
    raw = pretty.replace("\\t", "\t").replace("\\r", "\r").replace("\\n", "\n")
    raw = raw.replace("\\u0001", "\x01").encode()
    assert b"\t" in raw.split(b'"description"')[1]
    for cut in range(len(raw) + 1):
        result = parse_chunks([raw[:cut], raw[cut:]])
        assert result.errors == [], cut
        assert result.accepted[0].alert.description == 'a\tb\r\nc  "quoted\\" \\', cut


def test_invalid_utf8_is_not_text() -> None:
    body = b'[{"title": "caf\xe9"}]'
    assert [str(e) for e in parse_chunks([body]).errors] == [
        "input: invalid JSON array: lexical error: invalid bytes in UTF8 string."
    ]


# Values both readers accept: no NaN/Infinity, integers yajl can hold, no lone surrogates.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=20),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.text(st.characters(exclude_categories=["Cs"]), max_size=8), children, max_size=4
        ),
    ),
    max_leaves=20,
)
RECORDS = st.lists(st.dictionaries(st.text(max_size=8), VALUES, max_size=5), min_size=1, max_size=5)


def _chunked(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(data)) for cut in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


@settings(max_examples=150, deadline=None)
@given(
    records=RECORDS,
    ascii_only=st.booleans(),
    ndjson=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
)
def test_the_reader_agrees_with_python_json(
    records: list[dict[str, Any]], ascii_only: bool, ndjson: bool, cuts: list[int]
) -> None:
    if ndjson:
        text = "\n".join(json.dumps(r, ensure_ascii=ascii_only) for r in records) + "\n"
        expected = [json.loads(line) for line in text.split("\n") if line]
    else:
        text = json.dumps(records, ensure_ascii=ascii_only, indent=None)
        expected = json.loads(text)
    # Split anywhere, even inside a UTF-8 sequence or an escape.
    chunks = _chunked(text.encode(), cuts)
    read = list(read_chunks(chunks, max_depth=1000))
    assert not [item for item in read if isinstance(item, RecordError)]
    assert [item[2] for item in read if not isinstance(item, RecordError)] == expected
