"""`sentineliq evidence upload | files` through the real executable: the hashes computed, a hash
that disagrees refused (exit 2, nothing stored), the size cap, and the listing."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cli_runner import Cli

CONTENT = b"2026-11-27T08:00:01Z sshd[811]: Accepted publickey for root from 203.0.113.9\n" * 20


def _alert(cli: Cli, tmp_path: Path) -> tuple[str, str]:
    workspace: str = cli.json("workspace", "create", "--name", "SOC")["id"]
    alert = tmp_path / "alert.json"
    alert.write_text(
        '{"title": "Root login", "severity": "high", "source": "HIDS",'
        ' "detected_at": "2026-11-27T08:00:00Z"}'
    )
    done = cli("alerts", "ingest", "--workspace", workspace, str(alert), "--json")
    assert done.returncode == 0, done.stderr
    [listed] = cli.json("alerts", "list", "--workspace", workspace)
    return workspace, str(listed["id"])


def test_upload_and_list(cli: Cli, tmp_path: Path) -> None:
    workspace, alert_id = _alert(cli, tmp_path)
    log = tmp_path / "auth.log"
    log.write_bytes(CONTENT)
    sha256 = hashlib.sha256(CONTENT).hexdigest()

    wrong = cli(
        "evidence", "upload", alert_id, str(log), "--workspace", workspace, "--sha256", "f" * 64
    )
    assert wrong.returncode == 2
    assert f"sha256: does not match the file: the server computed {sha256}" in wrong.stderr
    assert cli.json("evidence", "files", alert_id, "--workspace", workspace) == []

    too_big = cli(
        "evidence", "upload", alert_id, str(log), "--workspace", workspace,
        env={"SENTINELIQ_EVIDENCE_MAX_BYTES": "100"},
    )  # fmt: skip
    assert too_big.returncode == 2
    assert "SENTINELIQ_EVIDENCE_MAX_BYTES" in too_big.stderr

    uploaded = cli.json(
        "evidence", "upload", alert_id, str(log), "--workspace", workspace, "--sha256", sha256,
        "--md5", hashlib.md5(CONTENT).hexdigest(),  # noqa: S324 - the hash under test
        "--content-type", "text/plain",
    )  # fmt: skip
    assert uploaded["created"] is True
    assert (uploaded["file_name"], uploaded["sha256"], uploaded["size"]) == (
        "auth.log",
        sha256,
        len(CONTENT),
    )
    assert uploaded["content_type"] == "text/plain"
    assert uploaded["sha1"] == hashlib.sha1(CONTENT).hexdigest()  # noqa: S324
    [listed] = cli.json("evidence", "files", alert_id, "--workspace", workspace)
    assert listed["id"] == uploaded["id"]
    shown = cli("evidence", "files", alert_id, "--workspace", workspace)
    assert shown.returncode == 0
    assert f"SHA-256 {sha256}" in shown.stdout
    # The upload's custody entry is verified with the rest.
    verified = cli("evidence", "verify", "--workspace", workspace, "--alert", alert_id)
    assert verified.returncode == 0, verified.stdout
    assert "intact  auth.log" in verified.stdout
