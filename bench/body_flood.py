"""Memory under a body flood: the server's RSS while 4 clients at once each send a 100 MB body.

Starts `sentineliq serve --no-worker` in a subprocess on a free loopback port with a throwaway
SQLite data directory and reads the server's RSS (VmRSS in /proc/<pid>/status) at rest. Then, in
three rounds, CLIENTS concurrent clients each stream SIZE MB:

1. anonymous, to alert ingest (POST /api/v1/workspaces/{ws}/alerts);
2. anonymous, to a route with a JSON body model (PUT .../providers/jira);
3. with an API key, valid NDJSON alerts to ingest (over its 5 MiB limit); skipped with
   --anonymous-only.

RSS is sampled every 10 ms throughout. Prints each answer, what each client managed to hand
over, and the server's RSS at rest, at its peak and at the end.

Usage: .venv/bin/python bench/body_flood.py [--clients 4] [--size-mb 100] [--anonymous-only]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2

from sentineliq.services.context import AppContext
from sentineliq.services.identity import IdentityService
from sentineliq.settings import Settings
from sentineliq.storage.workspaces import WorkspaceRepository

MiB = 1024 * 1024
ALERT = {
    "title": "Beaconing to a known C2 domain",
    "severity": "high",
    "source": "NDR",
    "detected_at": "2026-11-27T08:00:00Z",
}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Body:
    """`total` bytes of `chunk`, repeated; `sent` is what the client handed to the socket."""

    def __init__(self, total: int, chunk: bytes) -> None:
        self.total = total
        self.chunk = chunk
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        while self.sent < self.total:
            self.sent += len(self.chunk)
            yield self.chunk


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_mib(self.pid))
            time.sleep(0.01)


def flood(
    url: str, method: str, path: str, count: int, size: int, chunk: bytes, headers: dict[str, str]
) -> None:
    """`count` clients, each in its own thread, send `size` bytes at once; print each answer."""
    bodies = [Body(size, chunk) for _ in range(count)]
    outcomes = [""] * count

    def send(index: int) -> None:
        started = time.perf_counter()
        try:
            with httpx2.Client(base_url=url, timeout=300) as http:
                answer = http.request(method, path, content=bodies[index], headers=headers)
            detail = answer.json().get("detail", "") if answer.content else ""
            outcome = f"{answer.status_code} {detail[:70]!r}"
        except (httpx2.HTTPError, ValueError) as error:
            outcome = f"error {type(error).__name__}"
        took = time.perf_counter() - started
        handed = bodies[index].sent / MiB
        outcomes[index] = f"{outcome}; the client handed over {handed:.1f} MiB in {took:.2f} s"

    threads = [threading.Thread(target=send, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for line in outcomes:
        print("  " + line)


def wait_until_up(url: str) -> None:
    for _ in range(300):
        try:
            if httpx2.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--anonymous-only", action="store_true")
    args = parser.parse_args()
    size = args.size_mb * 1000 * 1000
    data_dir = Path(tempfile.mkdtemp(prefix="sentineliq-flood-"))
    env = {**os.environ, "SENTINELIQ_DATA_DIR": str(data_dir), "SENTINELIQ_LOG_LEVEL": "WARNING"}
    env.pop("SENTINELIQ_DATABASE_URL", None)
    server: subprocess.Popen[bytes] | None = None
    try:
        with AppContext.open(Settings.from_env(env)) as app:
            workspace = WorkspaceRepository(app.db).create("flood", actor="bench")
            _, key = IdentityService(app).create_api_key(workspace.id, "flood", actor="bench")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-c", "from sentineliq.cli.app import main; main()"]
        server = subprocess.Popen(
            [*command, "serve", "--port", str(port), "--no-worker"],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        wait_until_up(url)
        ingest = f"/api/v1/workspaces/{workspace.id}/alerts"
        provider = f"/api/v1/workspaces/{workspace.id}/providers/jira"
        signed = {"Authorization": f"Bearer {key}", "Content-Type": "application/x-ndjson"}
        # Warm up the code paths the flood takes, so "at rest" includes imports and caches.
        with httpx2.Client(base_url=url) as http:
            http.post(ingest, content=b"{}")
            http.put(provider, content=b"{}")
            http.post(ingest, content=json.dumps(ALERT), headers=signed)
        time.sleep(0.5)
        rest = rss_mib(server.pid)
        sampler = Sampler(server.pid)
        sampler.start()
        started = time.perf_counter()
        anonymous = {"Content-Type": "application/json"}
        junk = b"x" * 65536
        print(f"{args.clients} anonymous clients, {args.size_mb} MB each, POST {ingest}:")
        flood(url, "POST", ingest, args.clients, size, junk, anonymous)
        print(f"{args.clients} anonymous clients, {args.size_mb} MB each, PUT {provider}:")
        flood(url, "PUT", provider, args.clients, size, junk, anonymous)
        rounds = 2
        if not args.anonymous_only:
            rounds = 3
            # Alerts with an 8 KiB description: the 5 MiB limit comes before the record cap.
            alert = {**ALERT, "description": "d" * 8192}
            ndjson = (json.dumps(alert) + "\n").encode() * 8  # ~66 KiB of valid NDJSON
            print(f"{args.clients} clients with an API key, {args.size_mb} MB of NDJSON each:")
            flood(url, "POST", ingest, args.clients, size, ndjson, signed)
        took = time.perf_counter() - started
        time.sleep(0.5)
        sampler.stop.set()
        sampler.join()
        final = rss_mib(server.pid)
        print(f"offered: {rounds * args.clients * args.size_mb} MB in {took:.2f} s")
        print(f"server RSS at rest: {rest:.1f} MiB")
        print(f"server RSS peak:    {sampler.peak:.1f} MiB (+{sampler.peak - rest:.1f})")
        print(f"server RSS final:   {final:.1f} MiB (+{final - rest:.1f})")
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
