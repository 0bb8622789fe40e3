"""The stored mapping reaches the provider: open_provider hands a workspace its own mappings, read
live, so a mapping made after the provider was opened applies to the next ticket."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sentineliq.demo.run import sandbox_provider_config
from sentineliq.document.model import Document, Paragraph, Text
from sentineliq.providers.jira.metadata import shared_cache
from sentineliq.sandbox.jira import PRIVATE_EMAIL, JiraSandbox
from sentineliq.sandbox.jira.model import account_id_for
from sentineliq.services import assignees
from sentineliq.services import providers as provider_service
from sentineliq.services.context import AppContext
from sentineliq.services.providers import configure, open_provider, stored_config
from sentineliq.settings import Settings
from sentineliq.storage.workspaces import WorkspaceRepository
from sentineliq.tickets.draft import Priority, TicketDraft

SHARED = "soc@corp.test"


@pytest.fixture
def sandbox() -> Iterator[JiraSandbox]:
    with JiraSandbox() as started:
        # Two hidden-email accounts answer a search for SHARED: search alone cannot decide.
        started.add_user(SHARED, "SOC Shared Mailbox", email_visible=False)
        started.add_user("lead@corp.test", "soc@corp.test (lead)", email_visible=False)
        yield started
        shared_cache().invalidate(started.url)


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[AppContext]:
    settings = Settings(
        data_dir=tmp_path, database_url=database_url, secret_key=None, allow_private_targets=True
    )
    with AppContext.open(settings) as opened:
        yield opened


def _workspace(app: AppContext, sandbox: JiraSandbox, name: str) -> str:
    workspace = WorkspaceRepository(app.db).create(name).id
    configure(app, workspace, "jira", sandbox_provider_config(sandbox.url), actor="t")
    return workspace


def _draft(email: str) -> TicketDraft:
    return TicketDraft(
        summary="Beacon",
        document=Document((Paragraph((Text("seen"),)),)),
        priority=Priority.HIGH,
        assignee_email=email,
    )


def test_a_stored_mapping_wins_over_search_for_its_workspace_only(
    app: AppContext, sandbox: JiraSandbox
) -> None:
    soc, other = _workspace(app, sandbox, "SOC"), _workspace(app, sandbox, "Other")
    provider = open_provider(app, stored_config(app, soc, "jira"))
    try:
        first = provider.create_ticket(_draft(SHARED), idempotency_key="a")
        assert first.dropped_fields == ("assignee",)
        assignees.map_assignee(app, soc, SHARED.upper(), account_id_for(SHARED), actor="alice")
        second = provider.create_ticket(_draft(SHARED), idempotency_key="b")
        assert second.dropped_fields == ()
    finally:
        provider.close()
    elsewhere = open_provider(app, stored_config(app, other, "jira"))
    try:
        assert elsewhere.create_ticket(_draft(SHARED), idempotency_key="c").dropped_fields == (
            "assignee",
        )
    finally:
        elsewhere.close()
    by_key = {i["key"]: i["fields"].get("assignee") for i in sandbox.issues()}
    assert by_key[first.key] is None
    assert by_key[second.key]["accountId"] == account_id_for(SHARED)


def test_connection_check_uses_the_stored_mapping(app: AppContext, sandbox: JiraSandbox) -> None:
    soc = _workspace(app, sandbox, "SOC")
    report = provider_service.test_connection(app, soc, "jira", assignee_email=SHARED)
    assert not report.checks[-1].ok
    assignees.map_assignee(app, soc, SHARED, account_id_for(PRIVATE_EMAIL), actor="alice")
    report = provider_service.test_connection(app, soc, "jira", assignee_email=SHARED)
    assert report.checks[-1].ok, report.checks[-1].detail
    assert "(workspace mapping)" in report.checks[-1].detail
    assignees.unmap_assignee(app, soc, SHARED, actor="alice")
    assert assignees.list_mappings(app, soc) == []
