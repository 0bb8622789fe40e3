"""`size_report`: lines printed in pytest's terminal summary (the description size figures)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

_LINES = pytest.StashKey[list[str]]()


@pytest.fixture
def size_report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    lines = request.config.stash.setdefault(_LINES, [])
    return lines.append


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    lines = config.stash.get(_LINES, [])
    if lines:
        terminalreporter.section("description size: visible characters per serialised character")
        for line in lines:
            terminalreporter.write_line(line)
