"""NDJSON records end at \\n only: no character inside a JSON string can move a boundary."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sentineliq.alerts.parse import RecordError, parse_alerts, read_records

# Everything str.splitlines() cuts at; all of it is legal inside a JSON string.
SEPARATORS = "\u2028\u2029\u0085\x0b\x0c\x1c\x1d\x1e\r\n"

# Arbitrary text (surrogates excluded: they are not text), biased towards the separators.
TEXT = st.text(
    alphabet=st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(SEPARATORS)),
    max_size=30,
)
# Text a multi-line field keeps as it is: no control characters except tab and line breaks.
KEPT_TEXT = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=["Cs", "Cc"]), st.sampled_from("\u2028\u2029\t\n\r")
    ),
    max_size=30,
)
PROPERTY = settings(max_examples=150, deadline=None)


def _ndjson(records: list[Any], blank_before: list[bool]) -> tuple[str, list[int]]:
    """NDJSON text (blank lines where asked, CRLF on odd records) and each record's line."""
    lines: list[str] = []
    numbers: list[int] = []
    for index, (record, blank) in enumerate(zip(records, blank_before, strict=True)):
        if blank:
            lines.append("")
        ending = "\r" if index % 2 else ""
        lines.append(json.dumps(record, ensure_ascii=False) + ending)
        numbers.append(len(lines))
    return "\n".join(lines) + "\n", numbers


@PROPERTY
@given(
    records=st.lists(
        st.dictionaries(TEXT, st.one_of(TEXT, st.lists(TEXT, max_size=3)), max_size=4).map(
            lambda d: {"title": "t", **d}  # a first key, so the line is never `{}`-only noise
        ),
        min_size=2,
        max_size=6,
    ),
    data=st.data(),
)
def test_no_string_content_moves_a_record_boundary(
    records: list[dict[str, Any]], data: st.DataObject
) -> None:
    blank_before = data.draw(st.lists(st.booleans(), min_size=len(records), max_size=len(records)))
    text, lines = _ndjson(records, blank_before)
    read = list(read_records(text))
    assert not [item for item in read if isinstance(item, RecordError)]
    assert [item for item in read if not isinstance(item, RecordError)] == [
        (number, line, record)
        for number, (line, record) in enumerate(zip(lines, records, strict=True), start=1)
    ]


@PROPERTY
@given(
    fields=st.lists(st.tuples(TEXT, KEPT_TEXT, st.lists(TEXT, max_size=3)), min_size=2, max_size=5),
    data=st.data(),
)
def test_alerts_with_separators_in_any_field_keep_their_records_and_lines(
    fields: list[tuple[str, str, list[str]]], data: st.DataObject
) -> None:
    records = [
        {
            "title": "alert " + title,
            "severity": "low",
            "source": "src " + title,
            "detected_at": "2026-11-27T08:00:00Z",
            "description": description,
            "tags": tags,
        }
        for title, description, tags in fields
    ]
    blank_before = data.draw(st.lists(st.booleans(), min_size=len(records), max_size=len(records)))
    text, lines = _ndjson(records, blank_before)
    result = parse_alerts(text)
    assert result.errors == []
    assert [(r.record, r.line) for r in result.accepted] == [
        (number, line) for number, line in enumerate(lines, start=1)
    ]
    assert [r.alert.description for r in result.accepted] == [d for _, d, _ in fields]


def test_each_separator_inside_a_string_stays_in_its_record() -> None:
    # The old reader (str.splitlines) cut each of these records in two.
    for separator in SEPARATORS:
        first = {"title": f"a{separator}b", "severity": "low", "source": "s"}
        second = {**first, "title": "second", "description": f"x{separator}y"}
        text = "\n".join(
            json.dumps({**r, "detected_at": "2026-11-27T08:00:00Z"}, ensure_ascii=False)
            for r in (first, second)
        )
        if separator != "\n":
            # Raw, as careless senders write them (json.dumps escapes the C0 ones).
            text = text.replace(json.dumps(separator)[1:-1], separator)
            assert separator in text
        result = parse_alerts(text)
        assert result.errors == [], (repr(separator), [str(e) for e in result.errors])
        assert [(r.record, r.line) for r in result.accepted] == [(1, 1), (2, 2)]
        kept = separator if separator in "\u2028\u2029\r\n" else " "  # control chars: spaces
        assert result.accepted[1].alert.description == f"x{kept}y"


def test_line_numbers_after_a_separator_are_right() -> None:
    good = {"title": "t", "severity": "low", "source": "s", "detected_at": "2026-11-27T08:00:00Z"}
    text = "\n".join(
        [
            json.dumps({**good, "description": "one\u2028two"}, ensure_ascii=False),
            json.dumps({**good, "severity": "extreme"}),
        ]
    )
    assert [str(e) for e in parse_alerts(text).errors] == [
        "record 2 (line 2): severity: Input should be 'critical', 'high', 'medium', 'low' or 'info'"
    ]
