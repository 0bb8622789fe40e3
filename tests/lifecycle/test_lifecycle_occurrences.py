"""Repeats become occurrences and coalesced comments on one living ticket (issue 10)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from lifecycle_harness import Lifecycle, alert, cell_after, text_of
from sqlalchemy import func, select

from sentineliq.storage.deliveries import DeliveryRepository
from sentineliq.storage.tables import AlertOccurrenceRow, AlertRow

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def test_a_thousand_alerts_of_twenty_problems_make_twenty_living_tickets(life: Lifecycle) -> None:
    fingerprints = [f"fp-{n:02}" for n in range(20)]
    rng = random.Random(7)
    stream = [
        alert(rng.choice(fingerprints), at=T0 + timedelta(seconds=second)) for second in range(1000)
    ]
    per_problem = Counter(a["fingerprint"] for a in stream)
    # Each problem first, so each has its ticket before its repeats arrive.
    firsts = {a["fingerprint"]: a for a in reversed(stream)}
    rest = [a for a in stream if a is not firsts[a["fingerprint"]]]
    report = life.ingest(*firsts.values())
    assert report.accepted == 20
    life.work()
    # The storm of repeats arrives in four bursts; a worker runs after each.
    bursts = [rest[i::4] for i in range(4)]
    for burst in bursts:
        report = life.ingest(*burst)
        assert report.occurrences == len(burst)
        assert report.accepted == 0
        life.work()
    life.work(ahead=WINDOW + timedelta(seconds=5))  # the window ends: folded comments go out

    issues = life.sandbox.issues()
    assert len(issues) == 20
    with life.app.db.session() as session:
        stored = session.scalar(select(func.count()).select_from(AlertOccurrenceRow))
        query = select(AlertRow.fingerprint, AlertRow.occurrence_count)
        counts = {row.fingerprint: row.occurrence_count for row in session.execute(query)}
    assert stored == 980
    assert counts == {fp: per_problem[fp] - 1 for fp in fingerprints}

    for issue in issues:
        fingerprint = next(fp for fp in fingerprints if f"({fp})" in issue["fields"]["summary"])
        ours = life.our_comments(issue["key"])
        # The first burst at once (its repeats arrived together, before the comment went out);
        # the three later bursts fall within the window after it: folded into one comment.
        assert len(ours) == 2, issue["key"]
        told = [int(cell_after(c["body"], "New occurrences")) for c in ours]
        assert told[0] == sum(1 for a in bursts[0] if a["fingerprint"] == fingerprint)
        assert sum(told) == per_problem[fingerprint] - 1  # no repeat lost, none told twice
        assert f"fired {told[1]} more times" in text_of(ours[1]["body"])
        prop = life.property(issue["key"], "sentineliq.occurrences")
        assert prop["count"] == per_problem[fingerprint] - 1
    assert not [
        v
        for v in DeliveryRepository(life.app.db).list_for_workspace(life.workspace_id)
        if v.status.value != "delivered"
    ]


def test_a_resent_record_is_no_new_occurrence(life: Lifecycle) -> None:
    first = alert("fp-x", at=T0, external_id="edr-1")
    assert life.ingest(first).accepted == 1
    report = life.ingest(first)
    assert (report.accepted, report.occurrences, report.duplicates) == (0, 0, 1)
    again = alert("fp-x", at=T0 + timedelta(minutes=1), external_id="edr-2")
    assert life.ingest(again).occurrences == 1


def test_a_severity_rise_raises_the_priority_and_says_so(life: Lifecycle) -> None:
    life.ingest(alert("fp-sev", at=T0, severity="high"))
    life.work()
    (issue,) = life.sandbox.issues()
    assert issue["fields"]["priority"]["name"] == "High"
    life.ingest(
        alert(
            "fp-sev",
            at=T0 + timedelta(minutes=3),
            severity="critical",
            observables=[
                {"type": "ip", "value": "203.0.113.7"},
                {"type": "ip", "value": "203.0.113.8"},
                {"type": "domain", "value": "evil.example"},
            ],
            affected_assets=["WS-0042"],
        )
    )
    life.work()
    issue = life.issue(issue["key"])
    assert issue["fields"]["priority"]["name"] == "Highest"
    (comment,) = life.our_comments(issue["key"])
    changed = cell_after(comment["body"], "What changed")
    assert "severity raised high → critical" in changed
    assert "3 new observables" in changed
    assert "1 new affected asset" in changed
    assert "evil[.]example" in text_of(comment["body"])  # defanged, as in the description


def test_a_lower_severity_never_lowers_the_priority(life: Lifecycle) -> None:
    life.ingest(alert("fp-low", at=T0, severity="critical"))
    life.work()
    (issue,) = life.sandbox.issues()
    life.ingest(alert("fp-low", at=T0 + timedelta(minutes=1), severity="low"))
    life.work()
    assert life.issue(issue["key"])["fields"]["priority"]["name"] == "Highest"
    assert len(life.our_comments(issue["key"])) == 1


def test_a_priority_raised_by_hand_is_never_lowered(life: Lifecycle) -> None:
    life.ingest(alert("fp-hand", at=T0, severity="medium"))
    life.work()
    (issue,) = life.sandbox.issues()
    with life.person() as jira:
        jira.put(
            f"/issue/{issue['key']}", json={"fields": {"priority": {"name": "Highest"}}}
        ).raise_for_status()
    life.ingest(alert("fp-hand", at=T0 + timedelta(minutes=1), severity="high"))
    life.work()
    assert life.issue(issue["key"])["fields"]["priority"]["name"] == "Highest"


def test_without_a_source_id_only_an_identical_record_is_a_resend(life: Lifecycle) -> None:
    # No fingerprint, no external id: the recipe makes these one problem (digits masked).
    def seen(ip: str) -> dict[str, object]:
        return {
            "title": f"Login failure from {ip}",
            "severity": "medium",
            "source": "VPN",
            "detected_at": T0.isoformat(),
            "observables": [{"type": "ip", "value": ip}],
        }

    assert life.ingest(seen("203.0.113.7")).accepted == 1
    same_second = life.ingest(seen("198.51.100.4"))  # another record, same second
    assert (same_second.occurrences, same_second.duplicates) == (1, 0)
    again = life.ingest(seen("198.51.100.4"), seen("203.0.113.7"))  # both re-sent as they were
    assert (again.occurrences, again.duplicates) == (0, 2)
