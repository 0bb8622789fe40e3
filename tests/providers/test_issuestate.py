"""Reading an issue's lifecycle state from Jira JSON (GET issue, search/jql, webhooks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from sentineliq.providers.base import StatusCategory
from sentineliq.providers.jira.issuestate import jira_datetime, parse_issue_state


def _issue(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "status": {"name": "Erledigt", "statusCategory": {"key": "done", "name": "Fertig"}},
        "resolution": {"name": "Won't Fix"},
        "resolutiondate": "2026-12-02T13:00:00.000+0100",
        "priority": {"name": "High"},
        "updated": "2026-12-02T12:00:00.000+0000",
    }
    base.update(fields)
    return {"id": "10001", "key": "SEC-1", "fields": base}


def test_a_localized_done_status_is_done_by_its_category() -> None:
    state = parse_issue_state(_issue())
    assert state.status == "Erledigt"
    assert state.status_category is StatusCategory.DONE
    assert state.done
    assert state.resolution == "Won't Fix"
    assert state.resolved_at == datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    assert state.priority == "High"


def test_an_unresolved_issue_has_no_resolution() -> None:
    state = parse_issue_state(
        _issue(
            status={"name": "To Do", "statusCategory": {"key": "new"}},
            resolution=None,
            resolutiondate=None,
        )
    )
    assert not state.done
    assert state.resolution is None
    assert state.resolved_at is None


@pytest.mark.parametrize(
    "raw",
    [
        {"id": "1", "key": "SEC-1"},
        {"id": "1", "key": "SEC-1", "fields": {"status": None}},
        {"key": "SEC-1", "fields": {"status": {"name": "x", "statusCategory": {"key": "new"}}}},
        {"id": "1", "key": "SEC-1", "fields": {"status": {"name": "x", "statusCategory": {}}}},
    ],
)
def test_an_unreadable_state_is_an_error_not_open(raw: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"missing|no fields|unknown status category"):
        parse_issue_state(raw)


def test_jira_timestamps() -> None:
    assert jira_datetime("2026-12-02T12:00:00.000-0530") == datetime(
        2026, 12, 2, 12, 0, tzinfo=timezone(-timedelta(hours=5, minutes=30))
    )
    assert jira_datetime("2026-12-02T12:00:00Z") == datetime(2026, 12, 2, 12, tzinfo=UTC)
    assert jira_datetime("yesterday") is None
    assert jira_datetime("2026-12-02T12:00:00") is None
    assert jira_datetime(None) is None
