"""`sentineliq worker --metrics-port`: a separate worker process serves its own metrics."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx2
from delivery_harness import EXECUTABLE, Pipeline

from sentineliq.storage.deliveries import DeliveryRepository, DeliveryStatus


def test_worker_process_serves_its_metrics_over_http(pipeline: Pipeline) -> None:
    pipeline.ingest(3)
    worker = subprocess.Popen(
        [EXECUTABLE, "worker", "--poll-interval", "0.1", "--metrics-port", "0"],
        env=pipeline.worker_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        line = worker.stdout.readline()  # printed once the server listens
        assert line.startswith("metrics at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].strip()
        repo = DeliveryRepository(pipeline.app.db)
        deadline = time.monotonic() + 60
        while repo.count_by_status(pipeline.workspace_id)[DeliveryStatus.DELIVERED] < 3:
            assert worker.poll() is None, worker.stderr.read() if worker.stderr else ""
            assert time.monotonic() < deadline, "the worker did not deliver in 60 s"
            time.sleep(0.05)
        scraped = httpx2.get(url, timeout=10)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        for stream in (worker.stdout, worker.stderr):
            if stream is not None:
                stream.close()
    assert scraped.status_code == 200
    created = 'sentineliq_jira_requests_total{endpoint="POST /rest/api/3/issue",status="201"} 3.0'
    assert created in scraped.text
    assert worker.returncode == 0


def test_metrics_port_in_use_is_a_clear_error(pipeline: Pipeline) -> None:

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [EXECUTABLE, "worker", "--until-idle", "--metrics-port", str(port)],
            env=pipeline.worker_env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode != 0
    assert f"--metrics-port: cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_worker_metrics_require_the_token_when_one_is_set(pipeline: Pipeline) -> None:
    token = "scrape-" + "x" * 24
    worker = subprocess.Popen(
        [EXECUTABLE, "worker", "--poll-interval", "0.1", "--metrics-port", "0"],
        env={**pipeline.worker_env(), "SENTINELIQ_METRICS_TOKEN": token},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        line = worker.stdout.readline()
        assert line.startswith("metrics at http://127.0.0.1:"), line
        url = line.split(" at ", 1)[1].strip()
        anonymous = httpx2.get(url, timeout=10)
        wrong = httpx2.get(url, headers={"Authorization": "Bearer nope"}, timeout=10)
        right = httpx2.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        stderr = worker.stderr.read() if worker.stderr else ""
        for stream in (worker.stdout, worker.stderr):
            if stream is not None:
                stream.close()
    assert anonymous.status_code == wrong.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert token not in anonymous.text + wrong.text + stderr
    assert right.status_code == 200
    assert "sentineliq_jira_requests_total" in right.text or "# HELP" in right.text
