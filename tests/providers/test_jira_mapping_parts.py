"""The mapping package: its parts, and the old import path that still offers them."""

from __future__ import annotations

import sentineliq.providers.jira.mapping as mapping
from sentineliq.providers.jira import assignees
from sentineliq.providers.jira.mapping import limits, request, screen


def test_the_package_offers_each_part_itself_not_a_copy() -> None:
    homes = (limits, request, screen, assignees)
    for name in mapping.__all__:
        offered = getattr(mapping, name)
        owners = [m for m in homes if getattr(m, name, None) is offered and name in vars(m)]
        assert owners, f"{name} is not the object its module defines"


def test_sanitize_line_joins_lines_and_keeps_length() -> None:
    # Unlike summary_of, it only flattens: cutting to a limit is the caller's choice.
    text = "Brute\r\nforce\u2028from\t\t10.0.0.1 \x00" + "x" * 300
    line = mapping.sanitize_line(text)
    assert line == "Brute force from 10.0.0.1 " + "x" * 300
    assert mapping.summary_of(text) != line
