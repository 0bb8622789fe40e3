"""Files at rest: the data directory 0700, the SQLite database and its WAL/SHM/journal 0600.

Modes are set explicitly, so the process umask does not matter. SQLite gives its -wal, -shm and
-journal files the database file's mode, so creating that file 0600 before SQLite does covers
them; a connect hook also tightens stale ones. Existing files are not changed: `warn_exposed`
names any that other users can access, once at startup.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
_OTHERS = 0o077  # any group or world permission bit
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def make_private_dirs(path: Path) -> None:
    """Create `path` and its missing parents with mode 0700 (mkdir's mode is masked by umask)."""
    missing: list[Path] = []
    current = Path(path)
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR)
        except FileExistsError:
            continue  # made by a concurrent process; warn_exposed reports a loose one
        os.chmod(directory, PRIVATE_DIR)


def create_private_file(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it already exists."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE_FILE)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def _is_plain_path(path: Path) -> bool:
    return not str(path).startswith("file:")  # SQLite URI filenames are left to SQLite


def protect_sqlite_files(engine: Engine, path: Path) -> None:
    """Before each connection create the database 0600; after it tighten its companions to 0600
    when the database itself is private (a group-shared database keeps group-shared ones)."""
    if not _is_plain_path(path):
        return

    @event.listens_for(engine, "do_connect")
    def _before_connect(*_args: Any) -> None:
        if path.parent.is_dir():  # otherwise SQLite reports the missing directory itself
            create_private_file(path)

    @event.listens_for(engine, "connect")
    def _after_connect(*_args: Any) -> None:
        try:
            if _mode(path) & _OTHERS:
                return
        except FileNotFoundError:
            return
        for suffix in SQLITE_COMPANIONS:
            companion = path.with_name(path.name + suffix)
            try:
                if _mode(companion) & _OTHERS:
                    os.chmod(companion, PRIVATE_FILE)
            except FileNotFoundError:
                continue


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def warn_exposed(data_dir: Path, database: Path | None = None) -> list[Path]:
    """Log a warning naming each file or folder that other users can access: the data directory,
    its entries, and the SQLite database with its companions. Returns those paths."""
    candidates: list[Path] = []
    if data_dir.is_dir():
        candidates.append(data_dir)
        candidates.extend(sorted(data_dir.iterdir()))
    if database is not None and _is_plain_path(database):
        candidates.append(database)
        candidates.extend(database.with_name(database.name + s) for s in SQLITE_COMPANIONS)
    exposed: list[Path] = []
    seen: set[Path] = set()
    for candidate in candidates:
        key = candidate.absolute()
        if key in seen:
            continue
        seen.add(key)
        try:
            info = os.lstat(candidate)
        except FileNotFoundError:
            continue
        mode = stat.S_IMODE(info.st_mode)
        if stat.S_ISLNK(info.st_mode) or not mode & _OTHERS:
            continue
        wanted = PRIVATE_DIR if stat.S_ISDIR(info.st_mode) else PRIVATE_FILE
        log.warning(
            "%s is accessible by other users (mode %04o); restrict it with `chmod %o %s`",
            candidate,
            mode,
            wanted,
            candidate,
        )
        exposed.append(candidate)
    return exposed
