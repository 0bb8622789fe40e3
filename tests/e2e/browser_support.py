"""Shared by the end-to-end fixtures and tests: the browser's launch settings and the live server.

The test users and workspaces come from tests/web/admin_fixtures.py, one definition for both the
HTTP-level and the browser tests.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "web"))

from admin_fixtures import World

CHROMIUM = Path("/usr/bin/chromium")
# Debian's chromium, run as root in a container (docs: design/stack-notes.md §6).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@dataclass(frozen=True)
class LiveServer:
    url: str
    world: World
