"""`sync_catalog` into SQLite and PostgreSQL: the synced catalog reaches every process through the
database, a source that cannot be reached is recorded (the catalog before stays), and the worker's
schedule is off unless switched on."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from sentineliq.delivery.attack_schedule import AttackSyncSchedule
from sentineliq.services.attack import AttackSourceError, CatalogSource, sync_catalog, sync_status
from sentineliq.services.context import AppContext
from sentineliq.settings import MITRE_DEFAULT_URL, MitreSettings, Settings, SettingsError

EXCERPT = Path(__file__).parent / "data" / "enterprise-attack-excerpt.json"
T0 = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


@pytest.fixture
def app(tmp_path: Path, database_url: str) -> Iterator[AppContext]:
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=None,
        allow_private_targets=True,
    )
    with AppContext.open(settings) as context:
        yield context


def refused_url() -> str:
    """A loopback port nobody listens on: bound, then closed, so connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/enterprise-attack.json"


def test_a_file_sync_is_stored_and_used_by_every_process(app: AppContext) -> None:
    before = CatalogSource(app).current()
    assert before.release == "v19"  # the embedded default
    result = sync_catalog(app, file=EXCERPT, now=lambda: T0)
    assert (result.version, result.techniques, result.revoked, result.deprecated) == (
        "11.0",
        4,
        1,
        1,
    )
    status = sync_status(app)
    assert (status.version, status.source, status.synced_at, status.error) == (
        "11.0",
        str(EXCERPT),
        T0,
        None,
    )
    # Another process (a fresh AppContext on the same database) sees the synced catalog.
    with AppContext.open(app.settings) as other:
        catalog = CatalogSource(other).current()
    assert catalog.release == "v11"
    assert catalog.resolve("T1086").revoked_by == "T1059.001"
    assert len(catalog.resolve("T1078").tactics) == 4


def test_a_process_picks_up_a_later_sync(app: AppContext) -> None:
    clock = [0.0]
    source = CatalogSource(app, monotonic=lambda: clock[0])
    assert source.current().release == "v19"
    sync_catalog(app, file=EXCERPT)
    assert source.current().release == "v19"  # not re-read on every ticket
    clock[0] += 61
    assert source.current().release == "v11"


def test_an_unreachable_source_is_reported_and_the_catalog_kept(app: AppContext) -> None:
    sync_catalog(app, file=EXCERPT, now=lambda: T0)
    url = refused_url()
    with pytest.raises(AttackSourceError, match=r"cannot be reached \(ConnectError\)"):
        sync_catalog(app, url=url, now=lambda: T0 + timedelta(hours=1))
    status = sync_status(app)
    assert status.error == f"{url}: cannot be reached (ConnectError)"
    assert status.attempted_at == T0 + timedelta(hours=1)
    assert (status.version, status.synced_at) == ("11.0", T0)  # still in force
    assert CatalogSource(app).current().release == "v11"
    sync_catalog(app, file=EXCERPT)
    assert sync_status(app).error is None  # a later success clears it


def test_a_file_that_is_not_a_bundle_is_reported(app: AppContext, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<html>not here</html>")
    with pytest.raises(AttackSourceError, match="bundle: not JSON"):
        sync_catalog(app, file=page)
    assert sync_status(app).version is None
    assert "bundle: not JSON" in (sync_status(app).error or "")


def test_the_schedule_is_off_by_default(app: AppContext) -> None:
    assert Settings.from_env({}).mitre == MitreSettings(url=MITRE_DEFAULT_URL, interval_s=0.0)
    off = replace(app, settings=replace(app.settings, mitre=MitreSettings(url=refused_url())))
    schedule = AttackSyncSchedule(off, clock=lambda: T0)
    assert not schedule.enabled
    assert schedule.tick() is False
    schedule.wait()
    assert sync_status(app).attempted_at is None  # nothing was even tried


def test_the_daily_schedule_syncs_and_reports_an_unreachable_source(app: AppContext) -> None:
    daily = Settings.from_env(
        {"SENTINELIQ_MITRE_SYNC": "daily", "SENTINELIQ_MITRE_URL": refused_url()}
    )
    assert daily.mitre.interval_s == 24 * 3600
    on = replace(app, settings=replace(app.settings, mitre=daily.mitre))
    now, clock = [T0], [0.0]
    schedule = AttackSyncSchedule(on, clock=lambda: now[0], monotonic=lambda: clock[0])
    assert schedule.tick() is True  # started on a thread of its own
    schedule.wait()
    assert schedule.last is None  # failed, and said so:
    assert (sync_status(app).attempted_at, sync_status(app).error or "") == (
        T0,
        f"{daily.mitre.url}: cannot be reached (ConnectError)",
    )
    now[0], clock[0] = T0 + timedelta(hours=23), 1000.0
    assert schedule.tick() is False  # not due again within the day
    assert sync_status(app).attempted_at == T0
    now[0], clock[0] = T0 + timedelta(hours=24), 2000.0
    assert schedule.tick() is True
    schedule.wait()
    assert sync_status(app).attempted_at == T0 + timedelta(hours=24)


def test_the_daily_schedule_stores_what_it_fetched(app: AppContext) -> None:
    served = EXCERPT.read_bytes()

    class Bundle(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(served)))
            self.end_headers()
            self.wfile.write(served)

        def log_message(self, *_args: object) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Bundle) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/enterprise-attack.json"
            mitre = MitreSettings(url=url, interval_s=24 * 3600.0)
            on = replace(app, settings=replace(app.settings, mitre=mitre))
            schedule = AttackSyncSchedule(on, clock=lambda: T0)
            assert schedule.tick() is True
            schedule.wait()
        finally:
            server.shutdown()
    assert schedule.last is not None
    assert schedule.last.version == "11.0"
    status = sync_status(app)
    assert (status.version, status.source, status.synced_at) == ("11.0", url, T0)
    assert status.error is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"SENTINELIQ_MITRE_SYNC": "hourly"},
            "SENTINELIQ_MITRE_SYNC: 'hourly' is not one of off, daily",
        ),
        ({"SENTINELIQ_MITRE_URL": "file:///etc/passwd"}, "SENTINELIQ_MITRE_URL: must be an http"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)
