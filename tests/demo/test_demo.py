"""The README's demo command: sample alerts become readable issues in the sandbox."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx2

EXECUTABLE = str(Path(sys.executable).with_name("sentineliq"))
BROWSE_URL = re.compile(r"(http://127\.0\.0\.1:\d+/browse/(SEC-\d+))")


def _read_until(process: subprocess.Popen[bytes], marker: str, timeout: float) -> str:
    # Raw os.read: a buffered readline could hold data that select() no longer reports.
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    while marker.encode() not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"demo did not print {marker!r} in {timeout}s; output:\n{seen!r}"
        ready, _, _ = select.select([descriptor], [], [], remaining)
        if ready:
            chunk = os.read(descriptor, 65536)
            assert chunk, f"demo exited early ({process.poll()}); output:\n{seen!r}"
            seen += chunk
    return seen.decode()


def test_demo_files_every_sample_and_each_issue_reads_well() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTINELIQ_")}
    env["COLUMNS"] = "200"
    process = subprocess.Popen(
        [EXECUTABLE, "demo", "--keep-running"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        output = _read_until(process, "Browse the issues at", timeout=120)
        assert "delivered 10, retry scheduled 0, dead 0" in output
        # The beacon fires twice more: one coalesced comment on its ticket, priority raised.
        assert "2 repeats of NDR-90211 arrived" in output
        # One evidence file, uploaded for the beacon, attached to its ticket in the sandbox.
        evidence = re.search(
            r"Evidence file beacon-capture.txt \(SHA-256 [0-9a-f]{16}\.\.\.\) attached to (SEC-\d+)"
            r": (http://\S+)",
            output,
        )
        assert evidence is not None, output
        repeat = re.search(
            r"(SEC-\d+) got one comment for 2 repeats \(severity medium -> high\); "
            r"its priority is now High",
            output,
        )
        assert repeat is not None, output
        # One Alertmanager group, sent as Alertmanager sends it, then resolved at the source.
        assert re.search(
            r"Alertmanager group: SEC-\d+ filed \(Highest: SSH brute force against bastion-1: "
            r"412 failed logins in 5 minutes\); resolved at the source, it is now Done",
            output,
        ), output
        # One OCSF Detection Finding, as AWS Security Hub forwards GuardDuty's: its ATT&CK ids.
        assert re.search(
            r"OCSF finding: SEC-\d+ filed \(High: Trojan:EC2/DNSDataExfiltration on\s+"
            r"build-runner-3\) with ATT&CK TA0010, T1048, T1048\.003, TA0011, T1071, T1071\.004",
            output,
        ), output
        panel = re.search(
            r"Admin panel: (http://127\.0\.0\.1:\d+)/  sign in as (\S+) / (\S+)", output
        )
        assert panel is not None, output
        with httpx2.Client(timeout=10) as client:
            login = client.get(f"{panel.group(1)}/login")
            assert login.status_code == 200
            assert "<form" in login.text
        links = BROWSE_URL.findall(output)
        assert len({key for _url, key in links}) == 10, output
        with httpx2.Client(timeout=10) as client:
            page = client.get(evidence.group(2))
            assert "<h2>Attachments</h2>" in page.text
            assert "beacon-capture.txt" in page.text
            page = client.get(next(url for url, key in links if key == repeat.group(1)))
            assert "SentinelIQ: the alert fired 2 more times" in page.text
            assert "severity raised medium → high" in page.text
        with httpx2.Client(timeout=10) as client:
            for url, key in links:
                page = client.get(url)
                assert page.status_code == 200
                assert key in page.text
                assert "<h2" in page.text or "<h3" in page.text  # real structure, not one blob
                assert "<table" in page.text  # the facts table
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()
    assert process.returncode == 0


def test_demo_without_keep_running_exits_zero() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTINELIQ_")}
    env["COLUMNS"] = "200"
    done = subprocess.run(
        [EXECUTABLE, "demo"], capture_output=True, text=True, env=env, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Tickets filed" in done.stdout
    assert len(set(BROWSE_URL.findall(done.stdout))) == 10
