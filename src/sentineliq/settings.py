"""Instance settings, read from SENTINELIQ_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

_TRUE = {"1", "true", "yes", "on"}


class SettingsError(ValueError):
    """An environment variable holds a value we cannot use; the message names it."""


@dataclass(frozen=True)
class DeliverySettings:
    """How the outbox worker retries, reconciles and paces (docs/operations.md explains each)."""

    retry_base_s: float = 2.0  # exponential backoff with full jitter starts here...
    retry_cap_s: float = 600.0  # ...and never waits longer than this between attempts
    max_attempts: int = 100  # attempts that reached the ticket system, then dead-lettered
    max_age_s: float = 3 * 24 * 3600.0  # a delivery older than this is dead-lettered
    # After an unanswered create, how long Jira's search may lag before we trust "not found".
    # Atlassian: "from a few seconds to minutes"; a shorter window risks a duplicate issue.
    search_lag_s: float = 600.0
    reconcile_interval_s: float = 5.0  # first wait between searches; it doubles, up to a minute
    lease_s: float = 120.0  # a crashed worker's deliveries are claimed again after this
    rate_per_s: float = 10.0  # proactive requests per second per Jira site, all workers together

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DeliverySettings:
        defaults = cls()
        values: dict[str, float | int] = {}
        for name, variable in _DELIVERY_VARIABLES.items():
            raw = env.get(variable)
            if raw is None or raw == "":
                continue
            kind = type(getattr(defaults, name))
            try:
                value = kind(raw)
            except ValueError:
                raise SettingsError(f"{variable}: {raw!r} is not a number") from None
            if value <= 0:
                raise SettingsError(f"{variable}: must be greater than 0")
            values[name] = value
        return cls(**values)  # type: ignore[arg-type]


_DELIVERY_VARIABLES = {
    "retry_base_s": "SENTINELIQ_RETRY_BASE_SECONDS",
    "retry_cap_s": "SENTINELIQ_RETRY_CAP_SECONDS",
    "max_attempts": "SENTINELIQ_MAX_ATTEMPTS",
    "max_age_s": "SENTINELIQ_MAX_AGE_SECONDS",
    "search_lag_s": "SENTINELIQ_SEARCH_LAG_SECONDS",
    "reconcile_interval_s": "SENTINELIQ_RECONCILE_INTERVAL_SECONDS",
    "lease_s": "SENTINELIQ_LEASE_SECONDS",
    "rate_per_s": "SENTINELIQ_RATE_LIMIT",
}


@dataclass(frozen=True)
class LimitSettings:
    """How much a request may carry (docs/security.md): enforced while the body is read."""

    body_max_bytes: int = 64 * 1024  # every route: panel forms and API JSON
    ingest_body_max_bytes: int = 5 * 1024 * 1024  # POST /api/v1/workspaces/{ws}/alerts
    ingest_max_records: int = 1000  # one request is one transaction; more go in several
    ingest_max_depth: int = 32  # nesting of arrays/objects within one alert

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LimitSettings:
        values: dict[str, int] = {}
        for name, variable in LIMIT_VARIABLES.items():
            raw = env.get(variable)
            if raw is None or raw.strip() == "":
                continue
            try:
                value = int(raw.strip())
            except ValueError:
                raise SettingsError(f"{variable}: {raw!r} is not a whole number") from None
            if value <= 0:
                raise SettingsError(f"{variable}: must be greater than 0")
            values[name] = value
        return cls(**values)


LIMIT_VARIABLES = {
    "body_max_bytes": "SENTINELIQ_MAX_BODY_BYTES",
    "ingest_body_max_bytes": "SENTINELIQ_MAX_INGEST_BODY_BYTES",
    "ingest_max_records": "SENTINELIQ_MAX_INGEST_RECORDS",
    "ingest_max_depth": "SENTINELIQ_MAX_INGEST_DEPTH",
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str = field(repr=False)  # may carry a password; see __repr__
    # Fernet key(s), comma-separated, newest first; None -> key file. Never shown.
    secret_key: str | None = field(repr=False)
    allow_private_targets: bool  # lets providers point at loopback/private hosts (demo, tests)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    limits: LimitSettings = field(default_factory=LimitSettings)

    def __repr__(self) -> str:
        return (
            f"Settings(data_dir={str(self.data_dir)!r}, database_url={self.safe_database_url!r}, "
            f"secret_key={'set' if self.secret_key else 'key file'}, "
            f"allow_private_targets={self.allow_private_targets})"
        )

    @property
    def safe_database_url(self) -> str:
        """The database URL with any password masked, for messages and logs."""
        try:
            return make_url(self.database_url).render_as_string(hide_password=True)
        except Exception:  # an unparsable URL is reported by the engine; never echo it raw
            return "<unparsable database URL>"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "secret.key"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("SENTINELIQ_DATA_DIR") or Path.home() / ".sentineliq").expanduser()
        database_url = (
            env.get("SENTINELIQ_DATABASE_URL") or f"sqlite:///{data_dir / 'sentineliq.db'}"
        )
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            secret_key=env.get("SENTINELIQ_SECRET_KEY") or None,
            allow_private_targets=env.get("SENTINELIQ_ALLOW_PRIVATE_TARGETS", "").lower() in _TRUE,
            delivery=DeliverySettings.from_env(env),
            limits=LimitSettings.from_env(env),
        )
