"""The workspace's content settings: kept in the provider config under "content"."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from sentineliq.providers.jira.config import JiraConfig
from sentineliq.tickets.content import DEFAULT_CONTENT, TicketContent, content_from_config

BASE = {
    "base_url": "https://acme.atlassian.net",
    "email": "soc@acme.example",
    "api_token": "t0ken",
    "project_key": "SEC",
}


def test_absent_or_unreadable_content_is_the_default() -> None:
    assert content_from_config({}) is DEFAULT_CONTENT
    assert content_from_config(None) is DEFAULT_CONTENT
    assert content_from_config({"content": "nonsense"}) is DEFAULT_CONTENT
    # Written by a newer version with a section this one does not know: delivery goes on.
    assert content_from_config({"content": {"from_the_future": 1}}) is DEFAULT_CONTENT
    assert content_from_config({"content": {}}) == TicketContent()


def test_the_provider_config_refuses_an_unknown_content_setting_by_name() -> None:
    assert JiraConfig.parse(BASE).content == DEFAULT_CONTENT
    with pytest.raises(ValidationError) as refused:
        JiraConfig.parse({**BASE, "content": {"no_such_setting": True}})
    assert "content.no_such_setting" in str(refused.value)
