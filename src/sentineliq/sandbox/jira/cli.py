"""`run_sandbox`: serve the sandbox in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import threading
from types import FrameType

from sentineliq.sandbox.jira.sandbox import JiraSandbox
from sentineliq.sandbox.jira.seed import (
    ADMIN_EMAIL,
    ADMIN_TOKEN,
    PROJECT_KEY,
    READONLY_EMAIL,
    READONLY_TOKEN,
)


def run_sandbox(host: str, port: int) -> None:
    """Start a sandbox on host:port, print how to use it, and block until interrupted."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        with JiraSandbox(host=host, port=port) as sandbox:
            print(f"Jira Cloud sandbox listening on {sandbox.url}", flush=True)
            print(f"  API user:       {ADMIN_EMAIL}  token: {ADMIN_TOKEN}")
            print(f"  read-only user: {READONLY_EMAIL}  token: {READONLY_TOKEN}")
            print(f"  project:        {PROJECT_KEY}   issues: {sandbox.url}/browse")
            print("Press Ctrl-C to stop.", flush=True)
            try:
                while not stop.wait(0.5):
                    pass
            except KeyboardInterrupt:
                pass
    finally:
        signal.signal(signal.SIGTERM, previous)
