"""Resolving or dismissing an alert in SentinelIQ moves its ticket exactly once; a change that
came from the ticket never goes back to it; the storm guard holds new tickets (issue 10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lifecycle_harness import Lifecycle, alert, text_of
from sqlalchemy import select, update

from sentineliq.services.alertstatus import StatusOrigin, change_status
from sentineliq.storage.alerts import AlertRepository
from sentineliq.storage.deliveries import DeliveryRepository, DeliveryStatus
from sentineliq.storage.tables import AuditRow, DeliveryRow

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _filed(life: Lifecycle, fingerprint: str) -> tuple[str, str]:
    report = life.ingest(alert(fingerprint, at=T0))
    life.work()
    (issue,) = life.sandbox.issues()
    return report.outcomes[0].outcome.alert_id, str(issue["key"])


def _transitions_sent(life: Lifecycle, key: str) -> int:
    return sum(
        1
        for r in life.sandbox.requests()
        if r.method == "POST" and r.path.endswith(f"/issue/{key}/transitions")
    )


def _resolve(life: Lifecycle, alert_id: str, status: str = "resolved") -> None:
    change = change_status(
        life.app,
        alert_id,
        status,
        actor="ana@soc.example",
        reason="false positive: a scheduled scan",
        origin=StatusOrigin.USER,
    )
    assert change is not None


def test_resolving_in_sentineliq_moves_the_ticket_with_a_comment(life: Lifecycle) -> None:
    alert_id, key = _filed(life, "fp-resolve")
    _resolve(life, alert_id)
    life.work()
    issue = life.issue(key)
    assert issue["fields"]["status"]["statusCategory"]["key"] == "done"
    assert issue["fields"]["resolution"]["name"] == "Done"
    (comment,) = life.comments(key)
    said = text_of(comment["body"])
    assert "resolved by" in said
    assert "ana@soc.example" in said
    assert "a scheduled scan" in said
    assert _transitions_sent(life, key) == 1


def test_dismissing_sets_the_dismiss_resolution(life: Lifecycle) -> None:
    alert_id, key = _filed(life, "fp-dismiss")
    _resolve(life, alert_id, "dismissed")
    life.work()
    assert life.issue(key)["fields"]["resolution"]["name"] == "Won't Do"


def test_the_transition_happens_once_when_its_answer_is_lost(life: Lifecycle) -> None:
    alert_id, key = _filed(life, "fp-lost")
    # Jira moves the issue, but the answer comes after the client gave up (2 s timeout).
    life.sandbox.set_fault(
        "slow", delay_s=4.0, count=1, method="POST", path=f"/rest/api/3/issue/{key}/transitions"
    )
    _resolve(life, alert_id)
    life.work()
    assert life.issue(key)["fields"]["status"]["statusCategory"]["key"] == "done"
    assert _transitions_sent(life, key) == 1  # the retry read the status instead of moving
    assert len(life.comments(key)) == 1
    (delivery,) = [
        v
        for v in DeliveryRepository(life.app.db).list_for_workspace(life.workspace_id)
        if v.id != AlertRepository(life.app.db).get(alert_id).tickets[0].delivery_id
    ]
    outcomes = [a.outcome.value for a in DeliveryRepository(life.app.db).history(delivery.id)]
    assert outcomes == ["retry", "adopted"]


def test_a_change_from_the_ticket_is_never_sent_back(life: Lifecycle) -> None:
    alert_id, key = _filed(life, "fp-echo")
    change_status(
        life.app,
        alert_id,
        "resolved",
        actor="jira:Alex Analyst",
        reason="done in Jira",
        origin=StatusOrigin.TICKET,
        resolution="Done",
    )
    life.work()
    assert _transitions_sent(life, key) == 0
    assert len(DeliveryRepository(life.app.db).list_for_workspace(life.workspace_id)) == 1


def test_the_storm_guard_holds_tickets_past_the_threshold_until_released(
    life: Lifecycle,
) -> None:
    life.configure(storm_threshold=5, storm_window_s=600)
    report = life.ingest(*(alert(f"fp-storm-{n}", at=T0) for n in range(8)))
    assert report.accepted == 8
    held = [o for o in report.outcomes if o.outcome.held]
    assert len(held) == 3
    life.work()
    assert len(life.sandbox.issues()) == 5
    deliveries = DeliveryRepository(life.app.db)
    assert deliveries.count_held(life.workspace_id) == 3
    # Repeats of a held alert keep counting while it waits.
    held_id = held[0].outcome.alert_id
    life.ingest(alert("fp-storm-5", at=T0 + timedelta(minutes=1)))
    assert AlertRepository(life.app.db).ticket_context(held_id, "jira").occurrence_count == 1
    with life.app.db.session() as session:
        engaged = session.scalars(
            select(AuditRow).where(AuditRow.action == "storm_guard.engaged")
        ).all()
    assert [(a.details["held"], a.details["threshold"]) for a in engaged] == [(3, 5)]

    released = deliveries.release_held(life.workspace_id, None, actor="ana@soc.example")
    assert [r.status for r in released] == [DeliveryStatus.PENDING] * 3
    life.work()
    assert len(life.sandbox.issues()) == 8
    assert deliveries.count_held(life.workspace_id) == 0
    key = AlertRepository(life.app.db).get(held_id).tickets[0].issue_key
    assert len(life.our_comments(key)) == 1  # the repeat it had while held


def test_discarded_tickets_are_never_filed(life: Lifecycle) -> None:
    life.configure(storm_threshold=1)
    life.ingest(alert("fp-d-1", at=T0), alert("fp-d-2", at=T0))
    deliveries = DeliveryRepository(life.app.db)
    (held,) = deliveries.list_for_workspace(life.workspace_id, status="held")
    deliveries.discard_held(life.workspace_id, [held.id], actor="ana@soc.example")
    life.ingest(alert("fp-d-2", at=T0 + timedelta(minutes=1)))
    life.work()
    assert len(life.sandbox.issues()) == 1
    views = deliveries.list_for_workspace(life.workspace_id)
    assert sorted(v.status.value for v in views) == ["delivered", "delivered", "discarded"]


def test_reopened_in_sentineliq_before_the_worker_ran_the_ticket_stays_open(
    life: Lifecycle,
) -> None:
    alert_id, key = _filed(life, "fp-undo")
    _resolve(life, alert_id)
    change_status(
        life.app,
        alert_id,
        "new",
        actor="ana@soc.example",
        reason="resolved the wrong alert",
        origin=StatusOrigin.USER,
    )
    life.work()
    assert life.issue(key)["fields"]["status"]["statusCategory"]["key"] == "new"
    assert _transitions_sent(life, key) == 0


def test_a_ticket_held_for_days_and_its_waiting_comment_are_filed_when_released(
    life: Lifecycle,
) -> None:
    life.configure(storm_threshold=1)
    life.ingest(alert("fp-old-1", at=T0), alert("fp-old-2", at=T0))
    life.ingest(alert("fp-old-2", at=T0 + timedelta(minutes=1)))  # a repeat while held
    life.work()
    assert len(life.sandbox.issues()) == 1
    # Four days pass (the maximum age is three): the held ticket and its comment were queued
    # then.
    four_days_ago = datetime.now(UTC) - timedelta(days=4)
    with life.app.db.session() as session:
        session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.status.in_(["held", "pending"]))
            .values(created_at=four_days_ago)
        )
    deliveries = DeliveryRepository(life.app.db)
    deliveries.release_held(life.workspace_id, None, actor="ana@soc.example")
    life.work()
    views = deliveries.list_for_workspace(life.workspace_id)
    assert sorted((v.operation, v.status.value) for v in views) == [
        ("create_issue", "delivered"),
        ("create_issue", "delivered"),
        ("report_occurrences", "delivered"),
    ]
    assert len(life.sandbox.issues()) == 2


def test_a_done_transition_without_a_resolution_screen_still_moves_the_ticket(
    life: Lifecycle,
) -> None:
    # Team-managed projects: the Done transition has no screen, Jira sets the resolution.
    life.sandbox.set_workflow("simple", resolution_screen=False)
    alert_id, key = _filed(life, "fp-noscreen")
    _resolve(life, alert_id, "dismissed")
    life.work()
    issue = life.issue(key)
    assert issue["fields"]["status"]["statusCategory"]["key"] == "done"
    assert issue["fields"]["resolution"]["name"] == "Done"  # Jira's own, not "Won't Do"
    assert "dismissed by" in text_of(life.comments(key)[0]["body"])
    assert [
        v.status.value
        for v in DeliveryRepository(life.app.db).list_for_workspace(life.workspace_id)
    ] == ["delivered", "delivered"]
