"""JiraConfig validation: URL safety, field rules, error messages, secret handling."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pydantic import ValidationError

from sentineliq.providers.jira.config import DEFAULT_PRIORITY_MAP, JiraConfig, format_config_errors

TOKEN = "ATATT3xFfGF0-very-secret-token-value"
PUBLIC = "https://8.8.8.8"  # a public literal: validation sends nothing, and needs no DNS


def data(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "base_url": PUBLIC,
        "email": "sandbox@sentineliq.test",
        "api_token": TOKEN,
        "project_key": "SEC",
    }
    base.update(overrides)
    return base


def errors_of(payload: dict[str, Any], *, allow: bool = False) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        JiraConfig.parse(payload, allow_private_targets=allow)
    return format_config_errors(caught.value)


def test_defaults_and_normalisation() -> None:
    config = JiraConfig.parse(data(base_url="HTTPS://8.8.8.8/jira/"))
    assert config.base_url == "https://8.8.8.8/jira"
    assert config.issue_type == "Task"
    assert config.timeout_s == 15.0
    assert config.priority_map == DEFAULT_PRIORITY_MAP
    assert config.custom_fields == {}
    assert not config.allow_private_targets


def test_priority_map_is_merged_over_defaults() -> None:
    config = JiraConfig.parse(data(priority_map={"urgent": "Blocker", "low": "Lowest"}))
    assert config.priority_map == {
        "low": "Lowest",
        "medium": "Medium",
        "high": "High",
        "critical": "Highest",
        "urgent": "Blocker",
    }


def test_all_errors_are_reported_one_line_per_field() -> None:
    messages = errors_of(
        data(
            base_url="http://8.8.8.8",
            email="not-an-email",
            project_key="sec",
            priority_map={"severe": "High"},
            custom_fields={"customfield_x": "severity", "Threat score": "risk"},
            timeout_s=0,
            colour="blue",
        )
    )
    fields = [m.split(":", 1)[0] for m in messages]
    assert fields == [
        "base_url",
        "email",
        "project_key",
        "priority_map",
        "custom_fields",
        "timeout_s",
        "colour",
    ]
    assert "base_url: must use https" in messages
    assert any(m.startswith("priority_map: unknown priority 'severe'") for m in messages)
    custom = next(m for m in messages if m.startswith("custom_fields"))
    assert "'customfield_x' is not a Jira field id" in custom
    assert "'Threat score' maps to an unknown alert attribute" in custom
    assert "timeout_s: must be greater than 0" in messages
    assert "colour: is not a known setting" in messages


def test_missing_fields_and_strict_types() -> None:
    messages = errors_of({"base_url": PUBLIC, "timeout_s": "15", "project_key": "SEC"})
    assert "email: is required" in messages
    assert "api_token: is required" in messages
    assert "timeout_s: must be a number" in messages


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://127.0.0.1", "points at a private or loopback address (127.0.0.1)"),
        ("https://10.0.0.5:8443/", "points at a private or loopback address (10.0.0.5)"),
        ("https://[::1]/", "points at a private or loopback address (::1)"),
        ("https://[fe80::1]/", "points at a private or loopback address (fe80::1)"),
        ("https://[::ffff:192.168.0.1]", "points at a private or loopback address"),
        ("https://localhost:9000", "points at a private or loopback address (localhost -> "),
        ("https://0.0.0.0", "points at an unspecified address (0.0.0.0)"),
        ("https://224.0.0.7", "points at a multicast address (224.0.0.7)"),
    ],
)
def test_private_targets_are_refused_with_a_hint(url: str, expected: str) -> None:
    (message,) = errors_of(data(base_url=url))
    assert message.startswith(f"base_url: {expected}")
    assert message.endswith("set SENTINELIQ_ALLOW_PRIVATE_TARGETS=1 to allow it")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://2130706433/", "a private or loopback address (2130706433 -> 127.0.0.1)"),
        ("https://0177.0.0.1", "a private or loopback address (0177.0.0.1 -> 127.0.0.1)"),
        ("https://0x7f.0.0.1", "a private or loopback address (0x7f.0.0.1 -> 127.0.0.1)"),
        ("https://0x7f000001", "a private or loopback address (0x7f000001 -> 127.0.0.1)"),
        ("https://127.1:8443", "a private or loopback address (127.1 -> 127.0.0.1)"),
        ("https://127.0.1", "a private or loopback address (127.0.1 -> 127.0.0.1)"),
        ("https://[::ffff:7f00:1]", "a private or loopback address (::ffff:7f00:1)"),
        ("https://[64:ff9b::7f00:1]", "a private or loopback address (64:ff9b::7f00:1)"),
        ("https://[2002:7f00:0001::]", "a private or loopback address (2002:7f00:0001::)"),
        ("https://[2001:0:7f00:1::]", "a Teredo tunnel address (2001:0:7f00:1::)"),
        ("https://[fec0::1]/jira", "a site-local address (fec0::1)"),
        ("https://127.0.0.1./", "a private or loopback address (127.0.0.1)"),
        ("https://localhost./", "a private or loopback address (localhost -> "),
        (
            "https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/",
            "a private or loopback address (127.0.0.1)",
        ),
    ],
)
def test_review_forms_of_internal_urls_are_refused(url: str, expected: str) -> None:
    (message,) = errors_of(data(base_url=url))
    assert message.startswith(f"base_url: points at {expected}")
    assert message.endswith("set SENTINELIQ_ALLOW_PRIVATE_TARGETS=1 to allow it")


@pytest.mark.parametrize("url", ["https://[2002:a9fe:a9fe::]", "https://0xa9fea9fe"])
def test_disguised_metadata_address_is_refused_even_with_the_allow_flag(url: str) -> None:
    (message,) = errors_of(data(base_url=url), allow=True)
    assert "cloud metadata service address" in message
    assert message.endswith("this is never allowed")


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254",
        "https://[fd00:ec2::254]",
        "https://metadata.google.internal",
        "http://169.254.169.254/latest/meta-data",
    ],
)
def test_cloud_metadata_is_refused_even_with_the_allow_flag(url: str) -> None:
    (message,) = errors_of(data(base_url=url), allow=True)
    assert "cloud metadata service address" in message
    assert message.endswith("this is never allowed")


def test_allow_flag_permits_loopback_and_http() -> None:
    config = JiraConfig.parse(data(base_url="http://localhost:8080/"), allow_private_targets=True)
    assert config.base_url == "http://localhost:8080"
    assert config.allow_private_targets
    # The flag is an instance setting, never stored with the configuration.
    assert "allow_private_targets" not in config.to_storage()


def test_without_context_private_targets_are_refused() -> None:
    with pytest.raises(ValidationError):
        JiraConfig.model_validate(data(base_url="https://127.0.0.1"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ftp://8.8.8.8", "base_url: must use https"),
        ("8.8.8.8", "base_url: must use https"),
        ("https://user:pw@8.8.8.8", "base_url: must not contain a user name or password"),
        ("https://8.8.8.8/?x=1", "base_url: must not contain a query or fragment"),
        ("https:///path", "base_url: must name a host"),
        ("https://8.8.8.8:99999", "base_url: is not a valid URL"),
    ],
)
def test_malformed_urls(url: str, expected: str) -> None:
    (message,) = errors_of(data(base_url=url))
    assert message.startswith(expected)


@pytest.mark.parametrize("key", ["S", "SEC1234567890", "1SEC", "SE-C", "sec"])
def test_project_key_rule(key: str) -> None:
    assert errors_of(data(project_key=key))[0].startswith("project_key: must be 2-10")


@pytest.mark.parametrize("key", ["SE", "SEC", "SEC_OPS", "A123456789"])
def test_project_key_accepted(key: str) -> None:
    assert JiraConfig.parse(data(project_key=key)).project_key == key


def test_issue_type_by_name_or_id_and_custom_fields() -> None:
    config = JiraConfig.parse(
        data(
            issue_type="10003",
            custom_fields={"customfield_10050": "threat_score", "Alert source": "source"},
        )
    )
    assert config.issue_type == "10003"
    assert config.custom_fields["Alert source"] == "source"


def test_token_is_never_shown() -> None:
    config = JiraConfig.parse(data())
    assert TOKEN not in repr(config)
    assert TOKEN not in str(config)
    assert TOKEN not in str(config.model_dump())
    assert TOKEN not in str(config.model_dump(mode="json"))
    assert TOKEN not in str(config.masked())
    assert config.masked()["api_token"] == "********"
    assert config.to_storage()["api_token"] == TOKEN
    assert JiraConfig.SECRET_FIELDS == ("api_token",)


def test_storage_round_trip() -> None:
    config = JiraConfig.parse(data(priority_map={"low": "Lowest"}, timeout_s=3))
    again = JiraConfig.parse(config.to_storage())
    assert again == config
    assert again.api_token.get_secret_value() == TOKEN


@pytest.mark.parametrize("bad", [f"{TOKEN}\n", f" {TOKEN}", ""])
def test_bad_tokens_are_refused_without_echoing_them(
    bad: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ValidationError) as caught:
        JiraConfig.parse(data(api_token=bad, email="x"))
    text = "\n".join([str(caught.value), repr(caught.value), *format_config_errors(caught.value)])
    logging.getLogger("test").exception("config failed", exc_info=caught.value)
    assert "api_token: must not" in "\n".join(format_config_errors(caught.value))
    if bad:
        assert TOKEN not in text
        assert TOKEN not in caplog.text


def test_frozen() -> None:
    config = JiraConfig.parse(data())
    with pytest.raises(ValidationError):
        config.project_key = "OPS"  # type: ignore[misc]


def test_bounds_in_messages_are_the_fields_own() -> None:
    raw = {
        "base_url": "https://acme.atlassian.net",
        "email": "bot@acme.example",
        "api_token": "t",
        "project_key": "SEC",
        "timeout_s": 900,
        "lifecycle": {"storm_threshold": 0, "comment_window_s": 10**9},
    }
    with pytest.raises(ValidationError) as raised:
        JiraConfig.parse(raw)
    assert format_config_errors(raised.value) == [
        "timeout_s: must be at most 300",
        "lifecycle: 'comment_window_s' must be at most 86400; 'storm_threshold' must be at least 1",
    ]
