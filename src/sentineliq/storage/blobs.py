"""Evidence file contents, kept by content address (their SHA-256), behind a small interface.

`EvidenceStore` is what the rest of the product uses: `put` streams a file in (hashing it with
MD5, SHA-1 and SHA-256 as it goes, refusing it once it passes `max_bytes`, never holding it
whole in memory), `open`, `exists` and `delete` by key. `LocalFolderStore` is the default: one
file per content under a folder (mode 0700, files 0600), written to a temporary name and renamed
into place, so a reader never sees half a file and the same content is stored once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from sentineliq.errors import InputError
from sentineliq.storage.errors import StorageError

CHUNK = 64 * 1024
_KEY = re.compile(r"^sha256/[0-9a-f]{2}/[0-9a-f]{64}$")


class TooLargeError(InputError):
    """The file passed the size limit while it was read; nothing was kept."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than {limit} bytes")
        self.limit = limit


class StoredFileMissingError(StorageError):
    """No content is stored under the key (removed outside SentinelIQ, or never stored)."""


@dataclass(frozen=True)
class Digests:
    md5: str
    sha1: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Put:
    key: str
    digests: Digests
    created: bool  # False: the same content was stored already


def key_for(sha256: str) -> str:
    return f"sha256/{sha256[:2]}/{sha256}"


def chunks_of(stream: BinaryIO, size: int = CHUNK) -> Iterable[bytes]:
    while chunk := stream.read(size):
        yield chunk


class EvidenceStore(Protocol):
    def put(self, chunks: Iterable[bytes], *, max_bytes: int) -> Put:
        """Store the content (TooLargeError past `max_bytes`, nothing kept)."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The content, to read (StoredFileMissingError when it is not there)."""
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the content; nothing happens when it is not there."""
        ...


class LocalFolderStore:
    """Evidence files in a local folder (the default store)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise StoredFileMissingError(f"not an evidence file key: {key!r}")
        return self.folder / key

    def _ensure(self, directory: Path) -> None:
        for level in (self.folder, self.folder / "sha256", directory):
            level.mkdir(mode=0o700, parents=True, exist_ok=True)
            with contextlib.suppress(OSError):  # a folder someone else owns keeps its mode
                level.chmod(0o700)

    def put(self, chunks: Iterable[bytes], *, max_bytes: int) -> Put:
        self._ensure(self.folder / "sha256")
        # MD5 and SHA-1 identify the file as forensic tools list it; SHA-256 is the address.
        md5 = hashlib.md5(usedforsecurity=False)
        sha1 = hashlib.sha1(usedforsecurity=False)
        sha256 = hashlib.sha256()
        size = 0
        handle, temporary = tempfile.mkstemp(prefix=".upload-", dir=self.folder)
        try:
            with os.fdopen(handle, "wb") as out:  # mkstemp creates it 0600
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLargeError(max_bytes)
                    md5.update(chunk)
                    sha1.update(chunk)
                    sha256.update(chunk)
                    out.write(chunk)
            digests = Digests(md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest(), size)
            key = key_for(digests.sha256)
            target = self._path(key)
            self._ensure(target.parent)
            if target.exists():
                os.unlink(temporary)
                return Put(key, digests, created=False)
            os.replace(temporary, target)
            return Put(key, digests, created=True)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise StoredFileMissingError(f"no evidence file is stored under {key}") from None

    def exists(self, key: str) -> bool:
        try:
            return self._path(key).is_file()
        except StoredFileMissingError:
            return False

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()
