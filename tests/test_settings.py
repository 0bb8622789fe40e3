"""Instance settings: read from the environment, never showing secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentineliq.settings import LoginThrottleSettings, Settings, SettingsError


def test_defaults_live_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"SENTINELIQ_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path / 'sentineliq.db'}"
    assert settings.key_file == tmp_path / "secret.key"
    assert settings.secret_key is None
    assert settings.allow_private_targets is False


def test_overrides_and_flags() -> None:
    settings = Settings.from_env(
        {
            "SENTINELIQ_DATABASE_URL": "postgresql+psycopg://u@h/db",
            "SENTINELIQ_ALLOW_PRIVATE_TARGETS": "yes",
        }
    )
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.allow_private_targets is True


def test_repr_never_shows_the_key_or_the_database_password() -> None:
    settings = Settings.from_env(
        {
            "SENTINELIQ_SECRET_KEY": "super-secret-fernet-key",
            "SENTINELIQ_DATABASE_URL": "postgresql+psycopg://user:hunter2@db.internal/siq",
        }
    )
    shown = repr(settings)
    assert "super-secret-fernet-key" not in shown
    assert "hunter2" not in shown
    assert "db.internal" in shown


def test_login_throttle_settings_come_from_the_environment() -> None:
    assert Settings.from_env({}).login == LoginThrottleSettings()
    login = Settings.from_env(
        {"SENTINELIQ_LOGIN_FREE_FAILURES": "3", "SENTINELIQ_LOGIN_MAX_DELAY_SECONDS": "60.5"}
    ).login
    assert (login.free_failures, login.max_delay_s, login.client_free_failures) == (3, 60.5, 20)
    for variable, raw, message in (
        ("SENTINELIQ_LOGIN_FREE_FAILURES", "many", "is not a whole number"),
        ("SENTINELIQ_LOGIN_FIRST_DELAY_SECONDS", "0", "must be greater than 0"),
    ):
        with pytest.raises(SettingsError, match=f"{variable}: .*{message}"):
            Settings.from_env({variable: raw})


def test_bulk_threshold_comes_from_the_environment_and_zero_turns_bulk_off() -> None:
    assert Settings.from_env({}).delivery.bulk_threshold == 10
    assert Settings.from_env({"SENTINELIQ_BULK_THRESHOLD": "0"}).delivery.bulk_threshold == 0
    assert Settings.from_env({"SENTINELIQ_BULK_THRESHOLD": " 200 "}).delivery.bulk_threshold == 200
    for raw, message in (("-1", "must be 0 \\(off\\) or more"), ("ten", "not a whole number")):
        with pytest.raises(SettingsError, match=f"SENTINELIQ_BULK_THRESHOLD: .*{message}"):
            Settings.from_env({"SENTINELIQ_BULK_THRESHOLD": raw})
