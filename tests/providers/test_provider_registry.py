"""The provider registry: names, config parsing with the instance flag, factories."""

from __future__ import annotations

from typing import Any

import pytest
from jira_samples import config_data
from pydantic import BaseModel, ValidationError

from sentineliq.providers import registry
from sentineliq.providers.jira.config import JiraConfig
from sentineliq.providers.jira.metadata import shared_cache
from sentineliq.providers.jira.provider import JiraProvider


def test_jira_is_registered() -> None:
    assert "jira" in registry.names()
    spec = registry.get("jira")
    assert spec.config_model is JiraConfig
    assert spec.secret_fields == ("api_token",)
    assert spec.title == "Jira Cloud"


def test_parse_honours_the_private_target_flag(sandbox: Any) -> None:
    data = config_data(sandbox)
    with pytest.raises(ValidationError):
        registry.parse_config("jira", data, allow_private_targets=False)
    config = registry.parse_config("jira", data, allow_private_targets=True)
    assert isinstance(config, JiraConfig)
    assert config.allow_private_targets


def test_create_provider(sandbox: Any) -> None:
    config = registry.parse_config("jira", config_data(sandbox), allow_private_targets=True)
    assert isinstance(config, JiraConfig)
    provider = registry.create_provider("jira", config, config_version=4)
    try:
        assert isinstance(provider, JiraProvider)
        assert provider.config_version == 4
        assert provider.test_connection().ok
    finally:
        provider.close()
        # The registry's factory uses the process-wide cache; leave nothing for a later test
        # whose sandbox happens to get the same port.
        shared_cache().invalidate(config.base_url)


def test_unknown_provider_and_wrong_config() -> None:
    with pytest.raises(ValueError, match=r"unknown ticket provider 'servicenow' \(known: jira\)"):
        registry.get("servicenow")

    class Other(BaseModel):
        pass

    with pytest.raises(TypeError, match="jira needs a JiraConfig"):
        registry.create_provider("jira", Other())


def test_names_are_unique() -> None:
    with pytest.raises(ValueError, match="already registered"):
        registry.register(registry.get("jira"))
