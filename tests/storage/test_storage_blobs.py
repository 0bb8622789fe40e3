"""The evidence store's interface on the local-folder implementation: put by content address
(hashes computed on the way, stored once), open, exists, delete; a file past the limit refused
while it streams (the rest never read) leaving nothing behind; modes 0700/0600."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from sentineliq.storage.blobs import (
    LocalFolderStore,
    StoredFileMissingError,
    TooLargeError,
    key_for,
)


def _chunks(count: int, size: int = 1000, seen: list[int] | None = None) -> Iterator[bytes]:
    for number in range(count):
        if seen is not None:
            seen.append(number)
        yield bytes([number % 256]) * size


def test_put_open_exists_delete(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path / "evidence")
    content = b"".join(_chunks(5))
    put = store.put(_chunks(5), max_bytes=10_000)
    assert put.created
    assert put.digests.sha256 == hashlib.sha256(content).hexdigest()
    assert put.digests.md5 == hashlib.md5(content).hexdigest()  # noqa: S324 - under test
    assert put.digests.sha1 == hashlib.sha1(content).hexdigest()  # noqa: S324
    assert put.digests.size == len(content)
    assert put.key == key_for(put.digests.sha256)
    assert store.exists(put.key)
    with store.open(put.key) as stream:
        assert stream.read() == content
    path = tmp_path / "evidence" / put.key
    assert path.stat().st_mode & 0o777 == 0o600
    for folder in (tmp_path / "evidence", path.parent):
        assert folder.stat().st_mode & 0o777 == 0o700
    # The same content again is stored once.
    again = store.put(iter([content]), max_bytes=10_000)
    assert (again.key, again.created) == (put.key, False)
    assert [p.name for p in (tmp_path / "evidence").rglob("*") if p.is_file()] == [path.name]
    store.delete(put.key)
    assert not store.exists(put.key)
    store.delete(put.key)  # nothing there: nothing happens
    with pytest.raises(StoredFileMissingError):
        store.open(put.key)


def test_a_file_past_the_limit_is_refused_while_it_streams(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path / "evidence")
    seen: list[int] = []
    with pytest.raises(TooLargeError):
        store.put(_chunks(1_000_000, seen=seen), max_bytes=2500)
    assert len(seen) == 3  # stopped at the chunk that passed the limit, the rest never read
    assert [p for p in (tmp_path / "evidence").rglob("*") if p.is_file()] == []
    assert store.put(_chunks(2, size=1250), max_bytes=2500).digests.size == 2500


def test_keys_are_content_addresses_only(tmp_path: Path) -> None:
    store = LocalFolderStore(tmp_path / "evidence")
    for key in ("../secret.key", "sha256/aa/../../x", "sha256/zz/" + "z" * 64):
        assert not store.exists(key)
        with pytest.raises(StoredFileMissingError):
            store.open(key)
