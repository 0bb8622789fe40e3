"""A repeat after its ticket is done: reopen within the window, a new linked ticket after it,
nothing but a record when the ticket was resolved as "Won't Fix" (issue 10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lifecycle_harness import Lifecycle, alert, cell_after, text_of

from sentineliq.storage.alerts import AlertRepository

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def _filed(life: Lifecycle, fingerprint: str) -> str:
    life.ingest(alert(fingerprint, at=T0))
    life.work()
    (issue,) = life.sandbox.issues()
    return str(issue["key"])


def test_a_done_ticket_reopens_when_its_alert_fires_within_the_window(life: Lifecycle) -> None:
    key = _filed(life, "fp-reopen")
    life.move(key, "Done")
    assert life.issue(key)["fields"]["status"]["statusCategory"]["key"] == "done"
    life.ingest(alert("fp-reopen", at=T0 + timedelta(hours=2)))
    life.work()  # within the default 7 days
    issue = life.issue(key)
    assert issue["fields"]["status"]["statusCategory"]["key"] != "done"
    assert issue["fields"]["resolution"] is None
    (comment,) = life.our_comments(key)
    assert "Reopened" in text_of(comment["body"])
    assert len(life.sandbox.issues()) == 1


def test_classic_localized_workflow_reopens_by_the_configured_name(life: Lifecycle) -> None:
    life.sandbox.set_workflow("classic")
    life.sandbox.localize("de")
    life.configure(reopen_transitions=["Erneut öffnen"], resolve_transitions=["Erledigen"])
    key = _filed(life, "fp-de")
    with life.person() as jira:
        offered = jira.get(f"/issue/{key}/transitions").json()["transitions"]
    done = next(t for t in offered if t["to"]["statusCategory"]["key"] == "done")
    life.move(key, done["name"])
    life.ingest(alert("fp-de", at=T0 + timedelta(hours=1)))
    life.work()
    assert life.issue(key)["fields"]["status"]["statusCategory"]["key"] == "new"


# The worker's clock moves past a short reopen window (a window of days would make every
# delivery older than the maximum age).
SHORT_WINDOW_DAYS = 60 / 86_400
PAST_IT = timedelta(minutes=5)


def test_after_the_window_a_new_ticket_relates_to_the_old_one(life: Lifecycle) -> None:
    life.configure(reopen_window_days=SHORT_WINDOW_DAYS)
    key = _filed(life, "fp-relate")
    life.move(key, "Done")
    report = life.ingest(alert("fp-relate", at=T0 + timedelta(days=9)))
    life.work(ahead=PAST_IT)
    issues = {i["key"]: i for i in life.sandbox.issues()}
    assert len(issues) == 2
    (new_key,) = set(issues) - {key}
    assert issues[key]["fields"]["status"]["statusCategory"]["key"] == "done"  # left alone
    links = issues[new_key]["fields"]["issuelinks"]
    assert [(link["type"]["name"], link["outwardIssue"]["key"]) for link in links] == [
        ("Relates", key)
    ]
    stored = AlertRepository(life.app.db).get(report.outcomes[0].outcome.alert_id)
    (link,) = stored.tickets
    assert (link.issue_key, link.previous_keys) == (new_key, (key,))
    # The repeat that found the old ticket done is reported on the new one.
    (first,) = life.our_comments(new_key)
    assert cell_after(first["body"], "New occurrences") == "1"
    # A later repeat goes to the new ticket too.
    life.ingest(alert("fp-relate", at=T0 + timedelta(days=9, minutes=5)))
    life.work(ahead=PAST_IT + timedelta(minutes=20))
    assert len(life.our_comments(new_key)) == 2
    assert life.our_comments(key) == []


def test_wont_fix_suppresses_reopen_and_relate(life: Lifecycle) -> None:
    life.configure(reopen_window_days=SHORT_WINDOW_DAYS)
    key = _filed(life, "fp-wontfix")
    life.move(key, "Done", resolution="Won't Fix")
    life.ingest(alert("fp-wontfix", at=T0 + timedelta(hours=1)))
    life.work()
    life.ingest(alert("fp-wontfix", at=T0 + timedelta(days=30)))
    life.work(ahead=PAST_IT + timedelta(minutes=20))  # after the window, past the next one
    (issue,) = life.sandbox.issues()
    assert issue["fields"]["resolution"]["name"] == "Won't Fix"
    assert life.our_comments(key) == []
    stored = AlertRepository(life.app.db).ticket_context(
        AlertRepository(life.app.db).list_for_workspace(life.workspace_id)[0].id, "jira"
    )
    assert stored.occurrence_count == 2  # recorded, not lost


def test_repeats_that_came_before_the_close_reopen_nothing(life: Lifecycle) -> None:
    key = _filed(life, "fp-before")
    # A repeat arrives; before the worker reports it, an analyst closes the ticket.
    life.ingest(alert("fp-before", at=T0 + timedelta(minutes=5)))
    life.move(key, "Done")
    life.work()
    assert life.issue(key)["fields"]["status"]["statusCategory"]["key"] == "done"
    assert life.our_comments(key) == []
    # A repeat after the close reopens it.
    life.ingest(alert("fp-before", at=T0 + timedelta(minutes=9)))
    life.work(ahead=timedelta(minutes=16))
    assert life.issue(key)["fields"]["status"]["statusCategory"]["key"] == "new"
