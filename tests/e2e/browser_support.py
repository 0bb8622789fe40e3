"""Shared by the end-to-end fixtures and tests: the browser's launch settings and the live server.

The test users and workspaces come from tests/web/admin_fixtures.py, one definition for both the
HTTP-level and the browser tests.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

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


@contextmanager
def signed_in_page(chromium_path: Path, url: str, email: str, password: str) -> Iterator[Page]:
    """Headless chromium with a 1280x900 page signed in to the panel at `url` as `email`."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{url}/login")
            page.fill("#email", email)
            page.fill("#password", password)
            page.click("button[type=submit]")
            expect(page.locator(".sidenav")).to_be_visible()
            yield page
        finally:
            browser.close()
