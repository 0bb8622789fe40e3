"""The shortcuts normalize and the reader take for ordinary input change nothing: they give
what the general path gives, on any text."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sentineliq.alerts.jsonread import Builder, StringEscaper
from sentineliq.alerts.jsonread import decode as reader_decode
from sentineliq.alerts.normalize import IngestWarning, _prepare_text, _replace_odd

FIELDS = st.sampled_from(["title", "description", "notes", "severity", "tlp", "value"])
# Biased towards what the shortcuts look for: controls, separators, surrogates, spaces.
TEXT = st.text(
    st.one_of(
        st.characters(),
        st.sampled_from(["\t", "\n", "\r", "\x0b", "\x7f", "\x85", "\u2028", "\u2029", " "]),
    ),
    max_size=30,
)


@settings(max_examples=400, deadline=None)
@given(text=TEXT, name=FIELDS)
def test_prepare_text_equals_the_character_by_character_path(text: str, name: str) -> None:
    fast: list[IngestWarning] = []
    slow: list[IngestWarning] = []
    got = _prepare_text(text, (name,), fast)
    # The general path: every character looked at, then the enum folding as before.
    expected = _replace_odd(text, (name,), name, slow)
    expected = _prepare_text(expected, (name,), slow)  # nothing odd is left: folding only
    assert (got, fast) == (expected, slow)


def _slow_decode(data: bytes) -> Any:
    """The yajl reader alone (what decode did before its json shortcut)."""
    import ijson

    builder = Builder(32)
    for kind, value in ijson.basic_parse(StringEscaper().feed(data), use_float=True):
        builder.feed(kind, value)
    return builder.value, builder.problem, builder.field


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63) + 1, max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=10),
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(st.text(max_size=6), VALUES, max_size=5), ascii_only=st.booleans())
def test_the_json_shortcut_reads_what_yajl_reads(value: dict[str, Any], ascii_only: bool) -> None:
    data = json.dumps(value, ensure_ascii=ascii_only).encode()
    builder, problem = reader_decode(data, 32)
    assert problem is None
    assert builder is not None
    assert (builder.value, builder.problem, builder.field) == _slow_decode(data)


def test_a_duplicate_key_is_still_named() -> None:
    builder, _ = reader_decode(b'{"title": "a", "nested": {"x": 1, "x": 2}}', 32)
    assert builder is not None
    assert (builder.problem, builder.field) == ("duplicate key", "nested.x")
