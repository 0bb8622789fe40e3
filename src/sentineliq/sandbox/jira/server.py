"""HTTP plumbing on the stdlib's ThreadingHTTPServer, so the sandbox controls its sockets: it can
answer late, drop a connection without answering, and close its listening socket ("down") and
bind the same port again later.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sentineliq.sandbox.jira.wire import Response

log = logging.getLogger("sentineliq.sandbox.jira")

MAX_BODY_BYTES = 16 * 1024 * 1024
IDLE_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Incoming:
    method: str
    path: str  # percent-encoded, without the query
    query_string: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes


@dataclass(frozen=True)
class Outcome:
    response: Response | None  # None: close the connection without answering
    delay_s: float = 0.0  # answer this much later


Dispatch = Callable[[Incoming], Outcome]


class ThreadRegistry:
    """Every thread the sandbox starts, so stop() can wait for them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()

    def start(self, target: Callable[..., Any], *args: Any, name: str) -> threading.Thread:
        thread = threading.Thread(target=self._run, args=(target, *args), name=name, daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()
        return thread

    def _run(self, target: Callable[..., Any], *args: Any) -> None:
        try:
            target(*args)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def join_all(self, timeout: float) -> None:
        with self._lock:
            threads = [t for t in self._threads if t is not threading.current_thread()]
        for thread in threads:
            thread.join(timeout)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # Listener.close cuts connections instead of waiting for them

    def __init__(self, address: tuple[str, int], dispatch: Dispatch, threads: ThreadRegistry):
        self.dispatch = dispatch
        self.threads = threads
        self.closing = threading.Event()
        self._conn_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (getfqdn), which can stall on DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._conn_lock:
            self._connections.add(request)
        self.threads.start(
            self.process_request_thread, request, client_address, name="jira-sandbox-conn"
        )

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address, exc_info=True)

    def cut_connections(self) -> None:
        """Shut down every open connection; their handler threads then see EOF and end."""
        with self._conn_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                conn.shutdown(socket.SHUT_RDWR)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients pool connections to Jira
    server_version = "SentinelIQ-JiraSandbox/1"
    timeout = IDLE_TIMEOUT_S
    disable_nagle_algorithm = True  # headers and body go out as separate small writes
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:
        # Request lines only; the Authorization header is never logged.
        log.debug("%s - %s", self.address_string(), format % args)

    def _read_body(self) -> bytes | None:
        """The request body, or None after answering 400/413 (and closing) for a bad one."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_text = self.headers.get("Content-Length", "0") or "0"
        try:
            length = int(length_text)
        except ValueError:
            self._reject(400, "Invalid Content-Length header.")
            return None
        if length < 0 or length > MAX_BODY_BYTES:
            self._reject(413, "The request body is too large.")
            return None
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024).strip()
            try:
                size = int(line.split(b";")[0], 16)
            except ValueError:
                self._reject(400, "Malformed chunked request body.")
                return None
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                self._reject(413, "The request body is too large.")
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline(8)

    def _reject(self, status: int, message: str) -> None:
        self.close_connection = True
        self._write(Response.json({"errorMessages": [message], "errors": {}}, status))

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        split = urlsplit(self.path)
        incoming = Incoming(
            method=self.command,
            path=split.path or "/",
            query_string=split.query,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        outcome = self.server.dispatch(incoming)
        if outcome.delay_s > 0:
            # Woken early when the server goes down or stops: the connection is being cut.
            self.server.closing.wait(outcome.delay_s)
        response = outcome.response
        if response is None:
            self.close_connection = True  # the client sees a disconnect, never an answer
            return
        try:
            self._write(response)
        except OSError:
            self.close_connection = True
            return
        if response.after is not None:
            response.after()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # The stdlib's own errors (malformed request line, unsupported method, ...) as JSON too.
        self.close_connection = True
        text = message or self.responses.get(code, ("Error",))[0]
        with contextlib.suppress(OSError):
            self._write(Response.json({"errorMessages": [text], "errors": {}}, code))

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        if response.content_type is not None:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("X-AREQUESTID", uuid.uuid4().hex[:12])
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.headers.get("Connection", "").lower() == "close":
            self.close_connection = True
        self.end_headers()
        if response.body and self.command != "HEAD":
            self.wfile.write(response.body)


class Listener:
    """One bound listening socket and its accept loop."""

    def __init__(self, dispatch: Dispatch, threads: ThreadRegistry) -> None:
        self._dispatch = dispatch
        self._threads = threads
        self._server: _Server | None = None

    def open(self, host: str, port: int) -> int:
        """Bind and start serving; returns the bound port (useful when `port` is 0)."""
        server_cls = _Server6 if ":" in host else _Server
        server = server_cls((host, port), self._dispatch, self._threads)
        self._server = server
        self._threads.start(server.serve_forever, 0.05, name="jira-sandbox-accept")
        return int(server.server_address[1])

    def close(self) -> None:
        """Refuse new connections at once, then cut the open ones (also waking slow answers)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.closing.set()
        server.cut_connections()
