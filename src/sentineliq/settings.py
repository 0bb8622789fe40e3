"""Instance settings, read from SENTINELIQ_* environment variables."""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from sentineliq.errors import ConfigurationError

_TRUE = {"1", "true", "yes", "on"}


class SettingsError(ConfigurationError, ValueError):
    """An environment variable holds a value we cannot use; the message names it."""


def _positive_numbers(
    defaults: object, variables: Mapping[str, str], env: Mapping[str, str]
) -> dict[str, Any]:
    """The set variables among `variables` (field -> variable), each parsed as its field's
    default is typed (int or float) and required to be greater than 0."""
    values: dict[str, Any] = {}
    for name, variable in variables.items():
        raw = (env.get(variable) or "").strip()
        if not raw:
            continue
        kind = type(getattr(defaults, name))
        try:
            value = kind(raw)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise SettingsError(f"{variable}: {raw!r} is not {what}") from None
        if value <= 0:
            raise SettingsError(f"{variable}: must be greater than 0")
        values[name] = value
    return values


# Requests one worker keeps in flight (its lanes). Little's law: to spend the default budget of
# 10 requests/s a worker needs rate x time per delivery in flight: a 150 ms Jira round trip plus
# about 50 ms of its own work (claim, marker and outcome transactions, rendering) = 2. Doubled as
# headroom for slower answers and lanes waiting on the database's write lock: 4. More lanes than
# needed cost only idle threads and leases: the shared budget paces them all.
DEFAULT_CONCURRENCY = math.ceil(10.0 * (0.150 + 0.050) * 2)
# Each lane holds at most one database connection at a time; the engine's pool has 15 (SQLAlchemy's
# 5 + 10 overflow), which leaves room for the reconcile poll, metrics and, under `serve`, the API.
MAX_CONCURRENCY = 12


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
    concurrency: int = DEFAULT_CONCURRENCY  # requests one worker keeps in flight (its lanes)
    # Creates go out in bulk calls (up to 50 each) while more than this many are due for one
    # provider; 0 turns bulk off. 10 is one second of the default budget: a smaller backlog is
    # cleared within a second by single creates, and a bulk call's lost answer holds all of its
    # tickets for the search lag, so bulk pays only when the budget is the bottleneck.
    bulk_threshold: int = 10

    def __post_init__(self) -> None:
        if not 1 <= self.concurrency <= MAX_CONCURRENCY:
            raise SettingsError(
                f"SENTINELIQ_WORKER_CONCURRENCY: must be between 1 and {MAX_CONCURRENCY}"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DeliverySettings:
        values = _positive_numbers(cls(), _DELIVERY_VARIABLES, env)
        raw = (env.get("SENTINELIQ_BULK_THRESHOLD") or "").strip()
        if raw:
            try:
                values["bulk_threshold"] = int(raw)
            except ValueError:
                raise SettingsError(
                    f"SENTINELIQ_BULK_THRESHOLD: {raw!r} is not a whole number"
                ) from None
            if values["bulk_threshold"] < 0:
                raise SettingsError("SENTINELIQ_BULK_THRESHOLD: must be 0 (off) or more")
        return cls(**values)


_DELIVERY_VARIABLES = {
    "retry_base_s": "SENTINELIQ_RETRY_BASE_SECONDS",
    "retry_cap_s": "SENTINELIQ_RETRY_CAP_SECONDS",
    "max_attempts": "SENTINELIQ_MAX_ATTEMPTS",
    "max_age_s": "SENTINELIQ_MAX_AGE_SECONDS",
    "search_lag_s": "SENTINELIQ_SEARCH_LAG_SECONDS",
    "reconcile_interval_s": "SENTINELIQ_RECONCILE_INTERVAL_SECONDS",
    "lease_s": "SENTINELIQ_LEASE_SECONDS",
    "rate_per_s": "SENTINELIQ_RATE_LIMIT",
    "concurrency": "SENTINELIQ_WORKER_CONCURRENCY",
}


# MITRE's own STIX 2.1 release of Enterprise ATT&CK (the newest version).
MITRE_DEFAULT_URL = (
    "https://raw.githubusercontent.com/mitre-attack/attack-stix-data/master/"
    "enterprise-attack/enterprise-attack.json"
)
_SCHEDULES = {"off": 0.0, "daily": 24 * 3600.0}


@dataclass(frozen=True)
class MitreSettings:
    """Where `sentineliq mitre sync` reads ATT&CK from, and whether the worker syncs on its own."""

    url: str = MITRE_DEFAULT_URL
    # Seconds between the worker's syncs: 0 (SENTINELIQ_MITRE_SYNC=off, the default) or a day.
    interval_s: float = 0.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MitreSettings:
        url = (env.get("SENTINELIQ_MITRE_URL") or "").strip() or MITRE_DEFAULT_URL
        if not url.startswith(("https://", "http://")):
            raise SettingsError("SENTINELIQ_MITRE_URL: must be an http(s) URL")
        schedule = (env.get("SENTINELIQ_MITRE_SYNC") or "off").strip().lower()
        if schedule not in _SCHEDULES:
            raise SettingsError(
                f"SENTINELIQ_MITRE_SYNC: {schedule!r} is not one of " + ", ".join(_SCHEDULES)
            )
        return cls(url=url, interval_s=_SCHEDULES[schedule])


@dataclass(frozen=True)
class SyncSettings:
    """What comes back from the ticket system: the reconcile poll and webhook receipts."""

    # Seconds between reconcile runs of the worker; 0 turns the schedule off.
    reconcile_interval_s: float = 300.0
    # How far back the first run of a provider looks (no cursor yet).
    reconcile_lookback_s: float = 24 * 3600.0
    # Added to "since the last run": Cloud's search lags minutes behind an update.
    reconcile_overlap_s: float = 600.0
    # Webhook identifiers are kept this long to recognise replays and retries.
    webhook_receipt_days: float = 7.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SyncSettings:
        values = _positive_numbers(cls(), _SYNC_VARIABLES, env)
        raw = (env.get("SENTINELIQ_RECONCILE_INTERVAL_S") or "").strip()
        if raw:
            try:
                interval = float(raw)
            except ValueError:
                raise SettingsError(
                    f"SENTINELIQ_RECONCILE_INTERVAL_S: {raw!r} is not a number"
                ) from None
            if interval < 0 or interval != interval:
                raise SettingsError("SENTINELIQ_RECONCILE_INTERVAL_S: must be 0 (off) or more")
            values["reconcile_interval_s"] = interval
        return cls(**values)


_SYNC_VARIABLES = {
    "reconcile_lookback_s": "SENTINELIQ_RECONCILE_LOOKBACK_S",
    "reconcile_overlap_s": "SENTINELIQ_RECONCILE_OVERLAP_S",
    "webhook_receipt_days": "SENTINELIQ_WEBHOOK_RECEIPT_DAYS",
}


ProxyNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(entries: str | Iterable[str], *, source: str) -> tuple[ProxyNetwork, ...]:
    """IP addresses and CIDR networks (comma-separated text, or a list) -> networks.

    A single address becomes a /32 or /128. A network with host bits set ("10.0.0.1/8") is
    refused: it is usually a typo, and silently widening or narrowing a trust list is worse.
    """
    items = entries.split(",") if isinstance(entries, str) else list(entries)
    networks: list[ProxyNetwork] = []
    for item in items:
        entry = item.strip()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=True))
        except ValueError as exc:
            raise SettingsError(
                f"{source}: {entry!r} is not an IP address or CIDR network ({exc})"
            ) from None
    return tuple(dict.fromkeys(networks))  # drop duplicates, keep order


def _metrics_token(env: Mapping[str, str]) -> str | None:
    """SENTINELIQ_METRICS_TOKEN, or the content of SENTINELIQ_METRICS_TOKEN_FILE (one line, as
    Prometheus reads its credentials_file). Messages never contain the token itself."""
    token = env.get("SENTINELIQ_METRICS_TOKEN") or None
    path = env.get("SENTINELIQ_METRICS_TOKEN_FILE") or None
    if token is not None and path is not None:
        raise SettingsError(
            "SENTINELIQ_METRICS_TOKEN and SENTINELIQ_METRICS_TOKEN_FILE are both set; set one"
        )
    variable = "SENTINELIQ_METRICS_TOKEN"
    if path is not None:
        variable = "SENTINELIQ_METRICS_TOKEN_FILE"
        try:
            token = Path(path).expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SettingsError(f"{variable}: cannot read {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise SettingsError(f"{variable}: {path} is not UTF-8 text") from None
        if not token:
            raise SettingsError(f"{variable}: {path} is empty")
    # It travels in an HTTP header: printable ASCII, no spaces (RFC 6750 b64token and more).
    if token is not None and not all("!" <= char <= "~" for char in token):
        raise SettingsError(
            f"{variable}: the token must be printable ASCII without spaces or line breaks"
        )
    return token


@dataclass(frozen=True)
class LoginThrottleSettings:
    """How failed sign-ins slow further guesses (docs/security.md, "Sign-in throttle")."""

    free_failures: int = 5  # per address (and per proven device) before any delay
    client_free_failures: int = 20  # per client IP: one machine spraying many addresses
    first_delay_s: float = 1.0  # the first delay; it doubles with each further failure...
    max_delay_s: float = 900.0  # ...up to this
    forget_after_s: float = 24 * 3600.0  # a counter with no failure for this long starts over
    device_cookie_s: float = 30 * 24 * 3600.0  # how long a proven browser stays proven

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LoginThrottleSettings:
        return cls(**_positive_numbers(cls(), _LOGIN_VARIABLES, env))


_LOGIN_VARIABLES = {
    "free_failures": "SENTINELIQ_LOGIN_FREE_FAILURES",
    "client_free_failures": "SENTINELIQ_LOGIN_CLIENT_FREE_FAILURES",
    "first_delay_s": "SENTINELIQ_LOGIN_FIRST_DELAY_SECONDS",
    "max_delay_s": "SENTINELIQ_LOGIN_MAX_DELAY_SECONDS",
    "forget_after_s": "SENTINELIQ_LOGIN_FORGET_SECONDS",
    "device_cookie_s": "SENTINELIQ_LOGIN_DEVICE_COOKIE_SECONDS",
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
        return cls(**_positive_numbers(cls(), LIMIT_VARIABLES, env))


LIMIT_VARIABLES = {
    "body_max_bytes": "SENTINELIQ_MAX_BODY_BYTES",
    "ingest_body_max_bytes": "SENTINELIQ_MAX_INGEST_BODY_BYTES",
    "ingest_max_records": "SENTINELIQ_MAX_INGEST_RECORDS",
    "ingest_max_depth": "SENTINELIQ_MAX_INGEST_DEPTH",
}


DEFAULT_EVIDENCE_MAX_BYTES = 25 * 1024 * 1024
# Jira Cloud's default attachment limit is 10 MB per file (GET /rest/api/3/attachment/meta
# `uploadLimit`, changeable by a site admin): a larger file is linked instead.
DEFAULT_ATTACH_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class EvidenceSettings:
    """Evidence files (docs/security-context.md, "Evidence files"): where they are kept, the
    largest upload, the largest file attached to a ticket (larger ones are linked), and the
    address the links point at."""

    dir: Path | None = None  # None: `evidence` in the data directory
    max_bytes: int = DEFAULT_EVIDENCE_MAX_BYTES
    attach_max_bytes: int = DEFAULT_ATTACH_MAX_BYTES
    public_url: str | None = None  # e.g. https://sentineliq.example.org (no trailing slash)

    def folder(self, data_dir: Path) -> Path:
        return self.dir if self.dir is not None else data_dir / "evidence"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> EvidenceSettings:
        values = _positive_numbers(cls(), _EVIDENCE_VARIABLES, env)
        folder = (env.get("SENTINELIQ_EVIDENCE_DIR") or "").strip()
        if folder:
            values["dir"] = Path(folder).expanduser()
        public = (env.get("SENTINELIQ_PUBLIC_URL") or "").strip().rstrip("/")
        if public:
            if not public.startswith(("https://", "http://")):
                raise SettingsError("SENTINELIQ_PUBLIC_URL: must be an http(s) URL")
            values["public_url"] = public
        return cls(**values)


_EVIDENCE_VARIABLES = {
    "max_bytes": "SENTINELIQ_EVIDENCE_MAX_BYTES",
    "attach_max_bytes": "SENTINELIQ_ATTACH_MAX_BYTES",
}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str = field(repr=False)  # may carry a password; see __repr__
    # Fernet key(s), comma-separated, newest first; None -> key file. Never shown.
    secret_key: str | None = field(repr=False)
    allow_private_targets: bool  # lets providers point at loopback/private hosts (demo, tests)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    # Reverse proxies whose X-Forwarded-For/-Proto are believed; empty: no header is.
    trusted_proxies: tuple[ProxyNetwork, ...] = ()
    # Bearer token that /metrics requires; None leaves /metrics open. Never shown.
    metrics_token: str | None = field(default=None, repr=False)
    login: LoginThrottleSettings = field(default_factory=LoginThrottleSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    sync: SyncSettings = field(default_factory=SyncSettings)
    mitre: MitreSettings = field(default_factory=MitreSettings)
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)

    @property
    def evidence_dir(self) -> Path:
        """Where evidence files are kept (SENTINELIQ_EVIDENCE_DIR, default data_dir/evidence)."""
        return self.evidence.folder(self.data_dir)

    def __repr__(self) -> str:
        return (
            f"Settings(data_dir={str(self.data_dir)!r}, database_url={self.safe_database_url!r}, "
            f"secret_key={'set' if self.secret_key else 'key file'}, "
            f"allow_private_targets={self.allow_private_targets}, "
            f"trusted_proxies={[str(network) for network in self.trusted_proxies]!r}, "
            f"metrics_token={'set' if self.metrics_token else 'unset'})"
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
            trusted_proxies=parse_trusted_proxies(
                env.get("SENTINELIQ_TRUSTED_PROXIES", ""), source="SENTINELIQ_TRUSTED_PROXIES"
            ),
            metrics_token=_metrics_token(env),
            login=LoginThrottleSettings.from_env(env),
            limits=LimitSettings.from_env(env),
            sync=SyncSettings.from_env(env),
            mitre=MitreSettings.from_env(env),
            evidence=EvidenceSettings.from_env(env),
        )
