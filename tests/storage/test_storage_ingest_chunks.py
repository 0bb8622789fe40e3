"""Ingest works per chunk: a fixed number of statements and one transaction however many alerts
the chunk holds, with the same per-record outcomes as the per-alert path it replaced."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text
from storage_samples import jira_config, make_alert

from sentineliq.alerts.model import Alert
from sentineliq.storage import (
    AlertRepository,
    Database,
    ProviderRepository,
    WorkspaceRecord,
    WorkspaceRepository,
)
from sentineliq.storage.tables import AlertOccurrenceRow, AlertRow, AuditRow, DeliveryRow

T0 = datetime(2026, 11, 27, 7, 15, tzinfo=UTC)


def _alert(fingerprint: str, minutes: int = 0, **overrides: Any) -> Alert:
    return make_alert(
        fingerprint=fingerprint,
        external_id=overrides.pop("external_id", f"ext-{fingerprint}-{minutes}"),
        detected_at=(T0 + timedelta(minutes=minutes)).isoformat(),
        **overrides,
    )


@pytest.fixture
def storm_providers(providers: ProviderRepository, workspace: WorkspaceRecord) -> None:
    # Jira's storm guard holds the 4th new ticket within its window; github keeps the default.
    config = {**jira_config(), "lifecycle": {"storm_threshold": 3}}
    providers.save(workspace.id, "jira", config, secret_fields={"api_token"})
    providers.save(workspace.id, "github", {"repo": "acme/sec"})


def _mixed_batch() -> list[Alert]:
    """New alerts, their repeats and re-sends within the batch, repeats of a stored alert,
    alerts without a source id (told apart by content), and enough new ones to hold tickets."""
    no_id = {"external_id": None}
    return [
        _alert("a"),  # new
        _alert("p"),  # the stored alert, sent again: duplicate
        _alert("p", 5, severity="critical", affected_assets=["NEW-HOST"]),  # occurrence, raised
        _alert("b"),  # new
        _alert("a"),  # a re-send of the new alert in the same batch: duplicate
        _alert("a", 7),  # a repeat of it: occurrence 1
        _alert("c"),  # new: jira's 4th within the window, held
        _alert("d"),  # new, held at jira
        _alert("p", 9),  # occurrence 2 of the stored alert
        _alert("e", **no_id),  # new, no source id
        _alert("e", **no_id),  # the same content again: duplicate
        _alert("e", description="changed", **no_id),  # same time, other content: occurrence
        _alert("a", 7),  # a re-send of occurrence 1: duplicate
    ]


def _snapshot(database: Database, outcomes: list[Any]) -> dict[str, Any]:
    labels: dict[str, str] = {}
    for outcome in outcomes:
        labels.setdefault(outcome.alert_id, outcome.fingerprint)
    with database.session() as session:
        for row_id, fingerprint in session.execute(select(AlertRow.id, AlertRow.fingerprint)):
            labels.setdefault(row_id, fingerprint)
        alerts = sorted(
            (labels[r.id], r.occurrence_count, r.last_seen_at, r.peak_severity)
            for r in session.scalars(select(AlertRow))
        )
        deliveries = sorted(
            (
                labels[d.alert_id],
                d.provider,
                d.operation,
                d.sequence,
                d.status,
                sorted(d.payload.items()),
            )
            for d in session.scalars(select(DeliveryRow))
        )
        occurrences = sorted(
            (
                labels[o.alert_id],
                o.seq,
                o.source_id,
                o.severity,
                o.raised_from,
                str(o.new_assets),
                o.brought_new,
            )
            for o in session.scalars(select(AlertOccurrenceRow))
        )
        audit = Counter(
            (a.action, labels.get((a.target or "").removeprefix("alert:"), a.target))
            for a in session.scalars(select(AuditRow))
            if a.action in ("alert.ingested", "storm_guard.engaged")
        )
        storm = [
            a.details
            for a in session.scalars(select(AuditRow))
            if a.action == "storm_guard.engaged"
        ]
    return {
        "outcomes": [
            (o.status, labels[o.alert_id], o.deliveries, o.held, o.occurrence) for o in outcomes
        ],
        "alerts": alerts,
        "deliveries": deliveries,
        "occurrences": occurrences,
        "audit": dict(sorted(audit.items())),
        "storm": storm,
    }


EXPECTED_OUTCOMES = [
    ("accepted", "a", 2, (), None),
    ("duplicate", "p", 0, (), None),
    ("occurrence", "p", 0, (), 1),
    ("accepted", "b", 2, (), None),
    ("duplicate", "a", 0, (), None),
    ("occurrence", "a", 0, (), 1),
    ("accepted", "c", 2, ("jira",), None),
    ("accepted", "d", 2, ("jira",), None),
    ("occurrence", "p", 0, (), 2),
    ("accepted", "e", 2, ("jira",), None),
    ("duplicate", "e", 0, (), None),
    ("occurrence", "e", 0, (), 1),
    ("duplicate", "a", 0, (), None),
]

EXPECTED_ALERTS = [
    ("a", 1, datetime(2026, 11, 27, 7, 22, tzinfo=UTC), "high"),
    ("b", 0, None, None),
    ("c", 0, None, None),
    ("d", 0, None, None),
    ("e", 1, datetime(2026, 11, 27, 7, 15, tzinfo=UTC), "high"),
    ("p", 2, datetime(2026, 11, 27, 7, 24, tzinfo=UTC), "critical"),
]
_CREATE, _REPORT = "create_issue", "report_occurrences"
_ONE = [("first_seq", 1), ("last_seq", 1)]
EXPECTED_DELIVERIES = [
    ("a", "github", _CREATE, 0, "pending", []),
    ("a", "github", _REPORT, 0, "pending", _ONE),
    ("a", "jira", _CREATE, 0, "pending", []),
    ("a", "jira", _REPORT, 0, "pending", _ONE),
    ("b", "github", _CREATE, 0, "pending", []),
    ("b", "jira", _CREATE, 0, "pending", []),
    ("c", "github", _CREATE, 0, "pending", []),
    ("c", "jira", _CREATE, 0, "held", []),
    ("d", "github", _CREATE, 0, "pending", []),
    ("d", "jira", _CREATE, 0, "held", []),
    ("e", "github", _CREATE, 0, "pending", []),
    ("e", "github", _REPORT, 0, "pending", _ONE),
    ("e", "jira", _CREATE, 0, "held", []),
    ("e", "jira", _REPORT, 0, "pending", _ONE),
    ("p", "github", _CREATE, 0, "pending", []),
    ("p", "github", _REPORT, 0, "pending", [("first_seq", 1), ("last_seq", 2)]),
    ("p", "jira", _CREATE, 0, "pending", []),
    ("p", "jira", _REPORT, 0, "pending", [("first_seq", 1), ("last_seq", 2)]),
]
EXPECTED_OCCURRENCES = [
    ("a", 1, "ext-a-7", "high", None, "[]", False),
    ("e", 1, None, "high", None, "[]", False),
    ("p", 1, "ext-p-5", "critical", "high", "['NEW-HOST']", True),
    ("p", 2, "ext-p-9", "high", None, "[]", False),
]
EXPECTED_AUDIT = {
    ("alert.ingested", "a"): 1,
    ("alert.ingested", "b"): 1,
    ("alert.ingested", "c"): 1,
    ("alert.ingested", "d"): 1,
    ("alert.ingested", "e"): 1,
    ("alert.ingested", "p"): 1,
    ("storm_guard.engaged", "provider:jira"): 1,
}


@pytest.mark.usefixtures("storm_providers")
def test_mixed_batch_gives_the_per_alert_outcomes(
    database: Database, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    """The expected values were recorded from the per-alert implementation (d057a19) on the
    same batch: statuses, which alert each record names, held tickets, occurrence numbers, the
    rows written and the audit trail."""
    [stored] = alerts.ingest(workspace.id, [_alert("p")], actor="t")
    assert stored.status == "accepted"
    outcomes = alerts.ingest(workspace.id, _mixed_batch(), actor="t")
    snapshot = _snapshot(database, [stored, *outcomes])
    assert snapshot["outcomes"][1:] == EXPECTED_OUTCOMES
    assert snapshot["alerts"] == EXPECTED_ALERTS
    assert snapshot["deliveries"] == EXPECTED_DELIVERIES
    assert snapshot["occurrences"] == EXPECTED_OCCURRENCES
    assert snapshot["audit"] == EXPECTED_AUDIT
    assert snapshot["storm"] == [{"held": 3, "threshold": 3, "window_s": 600}]


@contextmanager
def _statements(database: Database) -> Iterator[Counter[str]]:
    """Counts statements sent to the database by their first words, and transactions begun."""
    seen: Counter[str] = Counter()

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split()
        seen[" ".join(words[:3]) if words[0].upper() == "INSERT" else words[0].upper()] += 1
        seen["total"] += 1

    def on_begin(_conn: Any) -> None:
        seen["transactions"] += 1

    event.listen(database.engine, "before_cursor_execute", on_execute)
    event.listen(database.engine, "begin", on_begin)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", on_execute)
        event.remove(database.engine, "begin", on_begin)


@pytest.mark.usefixtures("storm_providers")
def test_statements_per_chunk_do_not_grow_with_its_alerts(
    database: Database, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    """Each new alert has 3 observables, 3 ATT&CK refs, 2 evidence items and 3 custody entries
    and is queued for 2 providers: per alert that was 8.5 statements and a savepoint."""
    counts = []
    for size in (5, 200):
        batch = [_alert(f"n{size}-{i}") for i in range(size)]
        with _statements(database) as seen:
            outcomes = alerts.ingest(workspace.id, batch, actor="t")
        assert {o.status for o in outcomes} == {"accepted"}
        counts.append(seen)
    small, large = counts
    assert large == small
    assert large["transactions"] == 1
    assert large["SAVEPOINT"] == 0
    # One multi-row insert per table (alerts, observables, ATT&CK refs, evidence, custody,
    # deliveries, audit), and a handful of reads whatever the chunk size.
    assert large["total"] <= 14
    for table in ("alerts", "alert_observables", "deliveries", "audit_log", "custody_entries"):
        assert large[f"INSERT INTO {table}"] == 1, large


@pytest.mark.usefixtures("storm_providers")
def test_repeats_in_a_chunk_cost_statements_per_repeat_only(
    database: Database, alerts: AlertRepository, workspace: WorkspaceRecord
) -> None:
    """New alerts next to repeats still cost nothing per alert; the repeats keep their own
    (row-locking) path."""
    alerts.ingest(workspace.id, [_alert("r1"), _alert("r2")], actor="t")
    with _statements(database) as one_new:
        alerts.ingest(workspace.id, [_alert("r1", 1), _alert("x0")], actor="t")
    many = [_alert("r2", 1), *(_alert(f"y{i}") for i in range(100))]
    with _statements(database) as hundred_new:
        alerts.ingest(workspace.id, many, actor="t")
    assert hundred_new == one_new


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[Database]:
    from sentineliq.storage import upgrade_to_head

    upgrade_to_head(pg_url)
    with Database(pg_url) as db:
        yield db


@pytest.mark.postgres
def test_the_duplicate_check_is_never_run_from_a_generic_plan(pg_database: Database) -> None:
    """psycopg prepares a statement after 5 runs; PostgreSQL then may keep a generic plan made
    while the table was empty, which walks the workspace's created_at index instead of the
    unique fingerprint index. Ingest plans its statements with their values every time."""
    workspace = WorkspaceRepository(pg_database).create("plans")
    repository = AlertRepository(pg_database)
    for number in range(12):  # one connection, used again and again
        repository.ingest(workspace.id, [_alert(f"g{number}")], actor="t")
    with pg_database.session() as session:
        prepared = session.execute(
            text(
                "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
                "WHERE statement LIKE 'SELECT alerts.id %FOR UPDATE'"
            )
        ).all()
    assert prepared, "the duplicate check was not prepared: nothing to check"
    assert [(p.generic_plans, p.custom_plans > 0) for p in prepared] == [(0, True)]
