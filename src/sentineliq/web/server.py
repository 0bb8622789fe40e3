"""Serving an app from a background thread (the demo's panel, tests): start, address, stop."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import uvicorn


@dataclass
class BackgroundServer:
    url: str
    server: uvicorn.Server
    thread: threading.Thread

    @classmethod
    def start(cls, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> BackgroundServer:
        """Start uvicorn on `host` (port 0: a free one) and return once it accepts connections."""
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            lifespan="on",
            access_log=True,
            # uvicorn would otherwise believe X-Forwarded-* from loopback; create_app applies
            # SENTINELIQ_TRUSTED_PROXIES instead, the same way under every server.
            proxy_headers=False,
        )
        server = uvicorn.Server(config)
        # Not the main thread, so uvicorn leaves the process's signal handlers alone.
        thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
        thread.start()
        for _ in range(400):
            if server.started or not thread.is_alive():
                break
            thread.join(0.05)
        if not server.started:
            server.should_exit = True
            thread.join(10)
            raise RuntimeError(f"the web server did not start on {host}:{port}")
        bound = server.servers[0].sockets[0].getsockname()[1]
        return cls(f"http://{host}:{bound}", server, thread)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
