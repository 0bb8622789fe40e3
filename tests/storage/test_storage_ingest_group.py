"""Group commit: requests that arrive while a workspace's ingest transaction is under way are
stored together in the next one, each with its own outcomes, actor and audit entry."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import pytest
from sqlalchemy import event
from storage_samples import make_alert

from sentineliq.storage import AuditRepository, Database, WorkspaceRecord
from sentineliq.storage.alerts import IngestOutcome, IngestPart
from sentineliq.storage.audit import AuditEntry
from sentineliq.storage.ingestgroup import IngestGroup


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)


def _queued(group: IngestGroup, workspace_id: str, count: int) -> bool:
    return group.waiting(workspace_id) == count


def _audit(name: str, workspace_id: str) -> Callable[[Sequence[IngestOutcome]], AuditEntry]:
    return lambda outcomes: AuditEntry(
        "test.request",
        actor=name,
        workspace_id=workspace_id,
        details={"statuses": [o.status for o in outcomes]},
    )


def test_waiting_requests_share_the_next_transaction(
    database: Database, workspace: WorkspaceRecord
) -> None:
    group = IngestGroup(database)
    release = threading.Event()
    transactions: list[Any] = []

    def on_begin(connection: Any) -> None:
        transactions.append(connection)

    event.listen(database.engine, "begin", on_begin)

    def first_audit(outcomes: Sequence[IngestOutcome]) -> AuditEntry:
        # Inside the first transaction: hold it until the others are queued behind it.
        release.wait(timeout=30)
        return _audit("first", workspace.id)(outcomes)

    results: dict[str, list[IngestOutcome]] = {}
    errors: list[BaseException] = []

    def send(name: str, part: IngestPart) -> None:
        try:
            results[name] = group.ingest(workspace.id, part)
        except BaseException as error:
            errors.append(error)

    first = IngestPart([make_alert(fingerprint="f1")], actor="first", audit=first_audit)
    threads = [threading.Thread(target=send, args=("first", first))]
    threads[0].start()
    _until(lambda: len(transactions) == 1, "the first transaction began")
    later = {
        "a": [make_alert(fingerprint="a1"), make_alert(fingerprint="f1")],  # f1 again: duplicate
        "b": [make_alert(fingerprint="b1")],
        "c": [make_alert(fingerprint="a1"), make_alert(fingerprint="c1")],  # a1 from "a"
    }
    for name, alerts in later.items():
        part = IngestPart(alerts, actor=name, audit=_audit(name, workspace.id))
        threads.append(threading.Thread(target=send, args=(name, part)))
        threads[-1].start()
        _until(partial(_queued, group, workspace.id, len(threads) - 1), f"{name} queued")
    release.set()
    for thread in threads:
        thread.join(timeout=60)
    event.remove(database.engine, "begin", on_begin)

    assert errors == []
    assert len(transactions) == 2  # the first request's, then one for the three that waited
    statuses = {name: [o.status for o in outcomes] for name, outcomes in results.items()}
    # As if one after the other, in the order they arrived.
    assert statuses == {
        "first": ["accepted"],
        "a": ["accepted", "duplicate"],
        "b": ["accepted"],
        "c": ["duplicate", "accepted"],
    }
    assert results["c"][0].alert_id == results["a"][0].alert_id
    entries = AuditRepository(database).list(workspace.id)
    requests = sorted(
        (e.actor, e.details["statuses"]) for e in entries if e.action == "test.request"
    )
    assert requests == sorted((name, statuses[name]) for name in statuses)
    ingested = sorted(e.actor for e in entries if e.action == "alert.ingested")
    assert ingested == ["a", "b", "c", "first"]


def test_a_failure_fails_every_request_of_the_transaction_and_stores_none(
    database: Database, workspace: WorkspaceRecord
) -> None:
    group = IngestGroup(database)

    def broken(_outcomes: Sequence[IngestOutcome]) -> AuditEntry:
        raise RuntimeError("injected")

    with pytest.raises(RuntimeError, match="injected"):
        group.ingest(
            workspace.id, IngestPart([make_alert(fingerprint="x")], actor="t", audit=broken)
        )
    [outcome] = group.ingest(workspace.id, IngestPart([make_alert(fingerprint="x")], actor="t"))
    assert outcome.status == "accepted"  # nothing of the failed transaction was kept


def test_a_request_that_fails_a_shared_transaction_fails_alone(
    database: Database, workspace: WorkspaceRecord
) -> None:
    group = IngestGroup(database)
    release = threading.Event()
    began = threading.Event()

    def held(outcomes: Sequence[IngestOutcome]) -> AuditEntry:
        began.set()
        release.wait(timeout=30)
        return _audit("first", workspace.id)(outcomes)

    def broken(_outcomes: Sequence[IngestOutcome]) -> AuditEntry:
        raise RuntimeError("injected")

    results: dict[str, list[IngestOutcome]] = {}
    errors: dict[str, BaseException] = {}

    def send(name: str, part: IngestPart) -> None:
        try:
            results[name] = group.ingest(workspace.id, part)
        except Exception as error:
            errors[name] = error

    parts = {
        "first": IngestPart([make_alert(fingerprint="f1")], actor="first", audit=held),
        "good": IngestPart(
            [make_alert(fingerprint="g1")], actor="good", audit=_audit("good", workspace.id)
        ),
        "bad": IngestPart([make_alert(fingerprint="b1")], actor="bad", audit=broken),
        "also": IngestPart(
            [make_alert(fingerprint="a1")], actor="also", audit=_audit("also", workspace.id)
        ),
    }
    threads = {
        name: threading.Thread(target=send, args=(name, part)) for name, part in parts.items()
    }
    threads["first"].start()
    _until(began.is_set, "the first transaction began")
    for queued, name in enumerate(("good", "bad", "also"), start=1):
        threads[name].start()
        _until(partial(_queued, group, workspace.id, queued), f"{name} queued")
    release.set()
    for thread in threads.values():
        thread.join(timeout=60)

    assert set(errors) == {"bad"}
    assert str(errors["bad"]) == "injected"
    assert {name: [o.status for o in outcomes] for name, outcomes in results.items()} == {
        "first": ["accepted"],
        "good": ["accepted"],
        "also": ["accepted"],
    }
    # The bad request's alert was not kept: it is new when sent again.
    [again] = group.ingest(workspace.id, IngestPart([make_alert(fingerprint="b1")], actor="t"))
    assert again.status == "accepted"
