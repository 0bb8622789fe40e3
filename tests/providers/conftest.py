"""Fixtures for provider tests: a real Jira sandbox on 127.0.0.1 and providers pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from jira_samples import RecordingTransport, config_data

from sentineliq.providers.base import AssigneeDirectory
from sentineliq.providers.jira.client import JiraClient
from sentineliq.providers.jira.config import JiraConfig
from sentineliq.providers.jira.metadata import MetadataCache
from sentineliq.providers.jira.provider import JiraProvider
from sentineliq.providers.net import guarded_transport


@pytest.fixture
def sandbox() -> Iterator[Any]:
    from sentineliq.sandbox.jira import JiraSandbox

    with JiraSandbox(host="127.0.0.1", port=0) as sb:
        yield sb


@pytest.fixture
def make_config(sandbox: Any) -> Callable[..., JiraConfig]:
    def make(**overrides: Any) -> JiraConfig:
        return JiraConfig.parse(config_data(sandbox, **overrides), allow_private_targets=True)

    return make


@pytest.fixture
def cache() -> MetadataCache:
    # Each test its own cache, so nothing cached by one test can hide a request from another.
    return MetadataCache()


@pytest.fixture
def recorder() -> RecordingTransport:
    return RecordingTransport(guarded_transport(allow_private=True))


@pytest.fixture
def make_provider(
    make_config: Callable[..., JiraConfig], cache: MetadataCache
) -> Iterator[Callable[..., JiraProvider]]:
    made: list[JiraProvider] = []

    def make(
        *,
        transport: httpx2.BaseTransport | None = None,
        config_version: int = 0,
        assignees: AssigneeDirectory | None = None,
        **overrides: Any,
    ) -> JiraProvider:
        provider = JiraProvider(
            make_config(**overrides),
            config_version=config_version,
            cache=cache,
            assignees=assignees,
            client_factory=lambda cfg: JiraClient.from_config(cfg, transport=transport),
        )
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.close()
