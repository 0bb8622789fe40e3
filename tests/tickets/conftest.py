"""`size_report`: lines printed in pytest's terminal summary (the description size figures).

The lines travel as the test report's user properties, so they reach the summary from pytest-xdist
workers too, not only from an in-process run.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

_KEY = "size_report"


@pytest.fixture
def size_report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    def report(line: str) -> None:
        request.node.user_properties.append((_KEY, line))

    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = [
        str(value)
        for outcome in ("passed", "failed")
        for report in terminalreporter.stats.get(outcome, [])
        if getattr(report, "when", None) == "call"
        for key, value in getattr(report, "user_properties", ())
        if key == _KEY
    ]
    if lines:
        terminalreporter.section("description size: visible characters per serialised character")
        for line in lines:
            terminalreporter.write_line(line)
