"""Files at rest: private modes whatever the umask, and a warning naming exposed files."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from sentineliq.settings import Settings
from sentineliq.storage import Database, SecretBox

LOGGER = "sentineliq.storage.filemodes"


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def settings_for(data_dir: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'sentineliq.db'}",
        secret_key=None,
        allow_private_targets=False,
    )


def test_fresh_sqlite_database_is_private(tmp_path: Path, umask: int) -> None:
    data_dir = tmp_path / "srv" / "data"  # both levels are new
    db_file = data_dir / "sentineliq.db"
    with Database.from_settings(settings_for(data_dir)) as db:
        SecretBox.from_settings(settings_for(data_dir))
        with db.engine.connect() as connection:  # holds -wal/-shm open
            connection.execute(text("SELECT count(*) FROM workspaces"))
            files = [db_file, db_file.with_name("sentineliq.db-wal")]
            files += [db_file.with_name("sentineliq.db-shm"), data_dir / "secret.key"]
            assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o600" for f in files}
    assert oct(mode(data_dir)) == "0o700"
    assert oct(mode(tmp_path / "srv")) == "0o700"


def test_stale_loose_wal_is_tightened_on_connect(tmp_path: Path, umask: int) -> None:
    data_dir = tmp_path / "data"
    Database.from_settings(settings_for(data_dir)).dispose()
    wal = data_dir / "sentineliq.db-wal"
    wal.touch()
    os.chmod(wal, 0o644)
    with Database.from_settings(settings_for(data_dir)) as db, db.session() as session:
        session.execute(text("INSERT INTO workspaces (id, name, created_at) VALUES ('w', 'w', 0)"))
        assert oct(mode(wal)) == "0o600"


def test_warning_names_group_readable_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    db_file = data_dir / "sentineliq.db"
    caplog.set_level(logging.WARNING, logger=LOGGER)
    Database.from_settings(settings_for(data_dir)).dispose()
    assert oct(mode(db_file)) == "0o600"
    assert [r for r in caplog.records if r.name == LOGGER] == []

    os.chmod(db_file, 0o644)
    (data_dir / "notes.txt").write_text("x")
    os.chmod(data_dir / "notes.txt", 0o640)
    Database.from_settings(settings_for(data_dir)).dispose()
    warnings = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert any(str(db_file) in m and "0644" in m and "chmod 600" in m for m in warnings), warnings
    assert any(str(data_dir / "notes.txt") in m for m in warnings), warnings
    assert oct(mode(db_file)) == "0o644"  # reported, not changed behind the operator's back


def test_warning_names_world_readable_data_dir(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    os.chmod(data_dir, 0o755)  # noqa: S103 -- the loose mode under test
    caplog.set_level(logging.WARNING, logger=LOGGER)
    Database.from_settings(settings_for(data_dir)).dispose()
    warnings = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(warnings) == 1
    assert str(data_dir) in warnings[0]
    assert "chmod 700" in warnings[0]
