"""The reconcile poll: catch what webhooks missed (many sites cannot reach us through their
firewalls) by searching each enabled Jira provider's project for recently updated issues.

JQL `project = KEY AND updated >= "-<N>m" ORDER BY updated ASC`: relative minutes, so the site's
time zone (absolute JQL dates are read in the searching user's zone) cannot shift the window.
N covers the time since the last successful run's start, plus an overlap at least as long as
Cloud's search lag, plus one minute for rounding; the first run looks back a default lookback.
Each issue is applied by the same service as webhooks (`ticketsync`), so a repeat changes
nothing. The cursor moves only after a run that read every page.

Comments are not reconciled (webhooks carry them); see docs/lifecycle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from sentineliq.errors import SentinelIQError
from sentineliq.providers.jira.client import JiraClient
from sentineliq.providers.jira.issuestate import ISSUE_STATE_FIELDS, parse_issue_state
from sentineliq.services.context import AppContext
from sentineliq.services.ticketsync import TicketSync, prune_receipts
from sentineliq.storage.inbound import InboundRepository, ProviderRef
from sentineliq.storage.types import utcnow

log = structlog.get_logger("sentineliq.sync")

JIRA = "jira"
PAGE_SIZE = 100
MAX_PAGES = 1000  # a runaway token loop ends; the cursor then stays where it was


@dataclass
class ReconcileReport:
    provider_id: str
    workspace_id: str
    jql: str = ""
    issues: int = 0
    resolved: int = 0
    reopened: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "provider_id": self.provider_id,
            "workspace_id": self.workspace_id,
            "jql": self.jql,
            "issues": self.issues,
            "resolved": self.resolved,
            "reopened": self.reopened,
            "error": self.error,
        }


def lookback_minutes(app: AppContext, cursor: datetime | None, started: datetime) -> int:
    sync = app.settings.sync
    if cursor is None:
        seconds = sync.reconcile_lookback_s
    else:
        seconds = max(0.0, (started - cursor).total_seconds()) + sync.reconcile_overlap_s
    return math.ceil(seconds / 60) + 1


def reconcile_jql(project_key: str, minutes: int) -> str:
    return f'project = "{project_key}" AND updated >= "-{minutes}m" ORDER BY updated ASC'


def reconcile_provider(
    app: AppContext, provider: ProviderRef, *, now: datetime | None = None
) -> ReconcileReport:
    inbound = InboundRepository(app.db, app.secrets)
    started = now or utcnow()
    report = ReconcileReport(provider.id, provider.workspace_id)
    sync = TicketSync(app, provider)
    try:
        config = sync.config()
        minutes = lookback_minutes(app, inbound.reconcile_cursor(provider.id), started)
        report.jql = reconcile_jql(config.project_key, minutes)
        with JiraClient.from_config(config) as client:
            token: str | None = None
            for _page in range(MAX_PAGES):
                page = client.search_jql(
                    report.jql, ISSUE_STATE_FIELDS, PAGE_SIZE, next_page_token=token
                )
                for raw in page.get("issues") or []:
                    _apply(sync, raw, report)
                next_token = page.get("nextPageToken")
                if not isinstance(next_token, str) or not next_token or page.get("isLast"):
                    break
                token = next_token
            else:
                raise _TooManyPages(f"more than {MAX_PAGES} pages of results")
    except SentinelIQError as exc:
        report.error = str(exc)[:500]
        log.warning("sync.reconcile_failed", provider_id=provider.id, error=report.error)
        return report
    inbound.set_reconcile_cursor(provider.id, started)
    log.info("sync.reconciled", **report.to_json())
    return report


def _apply(sync: TicketSync, raw: object, report: ReconcileReport) -> None:
    report.issues += 1
    try:
        state = parse_issue_state(raw) if isinstance(raw, dict) else None
    except ValueError:
        state = None
    if state is None:
        report.skipped["unreadable"] = report.skipped.get("unreadable", 0) + 1
        return
    result = sync.apply_state(state)
    change = result.status_change
    if change is not None and change.after == "resolved":
        report.resolved += 1
    elif change is not None:
        report.reopened += 1
    elif result.skipped:
        report.skipped[result.skipped] = report.skipped.get(result.skipped, 0) + 1


class _TooManyPages(SentinelIQError):
    pass


def reconcile_all(app: AppContext, workspace_id: str | None = None) -> list[ReconcileReport]:
    """One run over every enabled Jira provider (of one workspace, or all)."""
    providers = InboundRepository(app.db, app.secrets).enabled_providers(JIRA, workspace_id)
    reports = [reconcile_provider(app, provider) for provider in providers]
    prune_receipts(app)
    return reports
