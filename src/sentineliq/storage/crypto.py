"""Encryption of secrets at rest (provider API tokens) with Fernet keys that can be rotated."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from sentineliq.settings import Settings
from sentineliq.storage.errors import StorageError
from sentineliq.storage.filemodes import make_private_dirs

# Shown instead of a secret anywhere one would otherwise appear; reveals nothing, not even length.
MASK = "********"

_WRONG_KEY = (
    "cannot decrypt provider secrets: "
    "the secret key does not match the one they were encrypted with"
)


class SecretError(StorageError):
    """Keys are missing, malformed, unsafe, or do not match the stored secrets."""


class SecretBox:
    """Encrypts and decrypts short secrets with MultiFernet.

    The first key encrypts; every key decrypts, so a new key can be put in front of the old ones
    and `rotate()` re-encrypts existing tokens under it.
    """

    __slots__ = ("_fernet", "_key_count")

    def __init__(self, keys: Iterable[str | bytes]) -> None:
        fernets: list[Fernet] = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError):
                # Never echo the key: a typo of a real key is still mostly the key.
                raise SecretError(
                    f"secret key #{position} is not a valid Fernet key "
                    "(expected 32 url-safe base64-encoded bytes, "
                    "as made by `SecretBox.generate_key()`)"
                ) from None
        if not fernets:
            raise SecretError("no secret key configured")
        self._fernet = MultiFernet(fernets)
        self._key_count = len(fernets)

    @classmethod
    def from_settings(cls, settings: Settings) -> SecretBox:
        """Keys from SENTINELIQ_SECRET_KEY (comma-separated, newest first), else the key file."""
        if settings.secret_key is not None:
            return cls(_split_keys(settings.secret_key))
        return cls(load_or_create_key_file(settings.key_file))

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode("ascii")

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            raise SecretError(_WRONG_KEY) from None

    def rotate(self, token: str) -> str:
        """Re-encrypt `token` under the newest key (after which older keys may be retired)."""
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError):
            raise SecretError(_WRONG_KEY) from None

    def __repr__(self) -> str:
        return f"SecretBox(<{self._key_count} key(s) hidden>)"


def _split_keys(value: str) -> list[str]:
    return [part.strip() for part in value.replace("\n", ",").split(",") if part.strip()]


def load_or_create_key_file(path: Path) -> list[str]:
    """Read the keys in `path` (newest first), creating it with one new key on first use.

    The file is created 0600 in a 0700 directory and appears complete or not at all, so a
    concurrent process never reads a half-written key. A file others can read is refused.
    """
    path = Path(path)
    if not path.exists():
        _create_key_file(path)
    info = path.stat()
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise SecretError(
            f"refusing to use the key file {path}: it is accessible by other users "
            f"(mode {stat.S_IMODE(info.st_mode):04o}); restrict it with `chmod 600 {path}`"
        )
    keys = _split_keys(path.read_text(encoding="ascii"))
    if not keys:
        raise SecretError(f"the key file {path} is empty")
    return keys


def _create_key_file(path: Path) -> None:
    make_private_dirs(path.parent)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    # O_EXCL with mode 0600 from the start: the key is never briefly readable by others.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(SecretBox.generate_key() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        # link() refuses to replace an existing file: if another process won the race, use its key.
        with contextlib.suppress(FileExistsError):
            os.link(temp, path)
    finally:
        temp.unlink(missing_ok=True)
