"""/metrics behind a bearer token (SENTINELIQ_METRICS_TOKEN or ..._TOKEN_FILE), over real HTTP."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx2
import pytest

from sentineliq.services.context import AppContext
from sentineliq.settings import Settings, SettingsError
from sentineliq.web.app import create_app
from sentineliq.web.server import BackgroundServer

TOKEN = "mt-9f2c41d7e0b84a6c93d1f5a2b7c0e8d4"


@pytest.fixture
def metrics_url(tmp_path: Path, sqlite_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """The /metrics URL of a server whose token is the test's `token` param (None: open)."""
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_url,
        secret_key=None,
        allow_private_targets=False,
    )
    settings = replace(settings, metrics_token=request.param)
    with AppContext.open(settings) as context:
        server = BackgroundServer.start(create_app(context))
        try:
            yield server.url + "/metrics"
        finally:
            server.stop()


@pytest.mark.parametrize("metrics_url", [TOKEN], indirect=True)
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer wrong-token",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN[:-1]}",
        f"Basic {TOKEN}",
        TOKEN,
        "Bearer",
    ],
)
def test_with_a_token_other_callers_get_401(metrics_url: str, authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    answer = httpx2.get(metrics_url, headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.headers["content-type"] == "application/problem+json"
    assert "sentineliq_" not in answer.text
    assert TOKEN not in answer.text


@pytest.mark.parametrize("metrics_url", [TOKEN], indirect=True)
@pytest.mark.parametrize("scheme", ["Bearer", "bearer"])
def test_the_right_token_gets_the_metrics(metrics_url: str, scheme: str) -> None:
    answer = httpx2.get(metrics_url, headers={"Authorization": f"{scheme} {TOKEN}"})
    assert answer.status_code == 200
    assert "sentineliq_queue_depth" in answer.text


@pytest.mark.parametrize("metrics_url", [None], indirect=True)
def test_without_a_token_metrics_stay_open(metrics_url: str) -> None:
    answer = httpx2.get(metrics_url)
    assert answer.status_code == 200
    assert "sentineliq_queue_depth" in answer.text


@pytest.mark.parametrize("metrics_url", [TOKEN], indirect=True)
def test_the_token_never_reaches_the_logs(metrics_url: str, json_logs: io.StringIO) -> None:
    assert httpx2.get(metrics_url, headers={"Authorization": f"Bearer {TOKEN}"}).is_success
    assert httpx2.get(metrics_url, headers={"Authorization": "Bearer nope"}).status_code == 401
    logged = json_logs.getvalue()
    assert "/metrics" in logged  # the access lines were captured...
    assert TOKEN not in logged  # ...without the token


# --- Settings -------------------------------------------------------------------------------


def test_token_from_the_environment_is_masked_in_repr() -> None:
    settings = Settings.from_env({"SENTINELIQ_METRICS_TOKEN": TOKEN})
    assert settings.metrics_token == TOKEN
    assert TOKEN not in repr(settings)
    assert "metrics_token=set" in repr(settings)
    assert "metrics_token=unset" in repr(Settings.from_env({}))
    assert Settings.from_env({}).metrics_token is None


def test_token_from_a_file_like_prometheus_credentials_file(tmp_path: Path) -> None:
    path = tmp_path / "metrics.token"
    path.write_text(TOKEN + "\n")
    settings = Settings.from_env({"SENTINELIQ_METRICS_TOKEN_FILE": str(path)})
    assert settings.metrics_token == TOKEN
    assert TOKEN not in repr(settings)


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "cannot read"), ("", "is empty"), ("\n", "is empty"), ("two words", "printable")],
)
def test_an_unusable_token_file_is_refused_naming_it(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "metrics.token"
    if content is not None:
        path.write_text(content)
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"SENTINELIQ_METRICS_TOKEN_FILE": str(path)})
    message = str(refused.value)
    assert message.startswith("SENTINELIQ_METRICS_TOKEN_FILE: ")
    assert expected in message
    assert "two words" not in message


def test_a_directory_is_not_a_token_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SENTINELIQ_METRICS_TOKEN_FILE: cannot read"):
        Settings.from_env({"SENTINELIQ_METRICS_TOKEN_FILE": str(tmp_path)})


def test_token_and_token_file_together_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "metrics.token"
    path.write_text(TOKEN)
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(
            {"SENTINELIQ_METRICS_TOKEN": TOKEN, "SENTINELIQ_METRICS_TOKEN_FILE": str(path)}
        )
    assert "both set" in str(refused.value)
    assert TOKEN not in str(refused.value)


def test_a_token_that_cannot_travel_in_a_header_is_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"SENTINELIQ_METRICS_TOKEN": "secret with spaces"})
    assert str(refused.value).startswith("SENTINELIQ_METRICS_TOKEN: ")
    assert "secret with spaces" not in str(refused.value)
