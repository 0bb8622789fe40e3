"""A stored alert that no longer reads (a payload today's model refuses) fails its own delivery
and nothing else: the batch claim that reads alerts never rolls back over it, single or bulk."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from delivery_harness import BULK, FAST, Pipeline
from sqlalchemy import update

from sentineliq.sandbox.jira import JiraSandbox
from sentineliq.settings import DeliverySettings
from sentineliq.storage.deliveries import DeliveryStatus, DeliveryView
from sentineliq.storage.tables import AlertRow
from sentineliq.storage.types import utcnow


def _open(tmp_path: Path, url: str, sandbox: JiraSandbox, delivery: DeliverySettings) -> Pipeline:
    return Pipeline.open(tmp_path, url, sandbox, delivery=delivery)


@pytest.fixture(params=["single", "bulk"])
def pipeline(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str, sandbox: JiraSandbox
) -> Iterator[Pipeline]:
    opened = _open(tmp_path, database_url, sandbox, FAST if request.param == "single" else BULK)
    try:
        yield opened
    finally:
        opened.close()


def _spoil(pipeline: Pipeline, title: str) -> str:
    """Store a payload the model refuses under the alert titled `title`; returns its id."""
    view = next(v for v in pipeline.deliveries() if v.alert_title == title)
    with pipeline.app.db.session() as session:
        session.execute(
            update(AlertRow)
            .where(AlertRow.id == view.alert_id)
            .values(payload={"title": title, "severity": "not-a-severity"})
        )
    return view.alert_id


def test_an_unreadable_alert_fails_alone_and_the_outbox_moves_on(pipeline: Pipeline) -> None:
    count = 30  # above the bulk threshold: the bulk variant files the rest in one call
    pipeline.ingest(count)
    spoiled = _spoil(pipeline, "Alert a-0")
    worker = pipeline.worker(batch_size=5)
    try:
        for _ in range(count):
            if worker.run_once() == 0:
                break
        bad = _view(pipeline, spoiled)
        assert bad.status is DeliveryStatus.FAILED  # kept and retried: a fixed model reads it
        # Once due again it is claimed alone: the claim reads its alert and must not fail.
        time.sleep(max(0.0, (bad.available_at - utcnow()).total_seconds()) + 0.05)
        assert worker.run_once() == 1
    finally:
        worker.close()
    views = {v.alert_id: v for v in pipeline.deliveries()}
    bad = views.pop(spoiled)
    assert bad.status is DeliveryStatus.FAILED
    assert bad.attempts >= 2
    assert bad.error_kind == "unavailable"
    assert "internal error" in (bad.last_error or "")
    assert {v.status for v in views.values()} == {DeliveryStatus.DELIVERED}
    assert len(pipeline.sandbox.issues()) == count - 1


def _view(pipeline: Pipeline, alert_id: str) -> DeliveryView:
    return next(v for v in pipeline.deliveries() if v.alert_id == alert_id)
