"""SecretBox: keys from settings or a private key file; clear errors; keys never shown."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from sentineliq.settings import Settings
from sentineliq.storage import SecretBox, SecretError, load_or_create_key_file


def _settings(tmp_path: Path, secret_key: str | None = None) -> Settings:
    env = {"SENTINELIQ_DATA_DIR": str(tmp_path / "data")}
    if secret_key is not None:
        env["SENTINELIQ_SECRET_KEY"] = secret_key
    return Settings.from_env(env)


def test_round_trip_and_tokens_differ() -> None:
    box = SecretBox([SecretBox.generate_key()])
    first, second = box.encrypt("s3cret"), box.encrypt("s3cret")
    assert first != second
    assert "s3cret" not in first
    assert box.decrypt(first) == box.decrypt(second) == "s3cret"


def test_key_file_created_private_on_first_use(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    box = SecretBox.from_settings(settings)
    key_file = settings.key_file
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_file.parent.stat().st_mode) == 0o700
    token = box.encrypt("hello")
    # A second process (same settings) reads the same key back.
    assert SecretBox.from_settings(settings).decrypt(token) == "hello"
    assert list(tmp_path.joinpath("data").iterdir()) == [key_file]  # no temp files left


def test_key_file_is_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        load_or_create_key_file(tmp_path / "k" / "secret.key")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "k" / "secret.key").stat().st_mode) == 0o600


def test_concurrent_first_use_agrees_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    results: list[list[str]] = []
    barrier = threading.Barrier(4)

    def load() -> None:
        barrier.wait(timeout=10)
        results.append(load_or_create_key_file(path))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 4
    assert all(keys == results[0] for keys in results)


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    load_or_create_key_file(path)
    path.chmod(0o644)
    with pytest.raises(SecretError, match=r"accessible by other users \(mode 0644\)"):
        load_or_create_key_file(path)


def test_settings_key_wins_over_key_file_and_supports_rotation(tmp_path: Path) -> None:
    old, new = SecretBox.generate_key(), SecretBox.generate_key()
    token = SecretBox.from_settings(_settings(tmp_path, old)).encrypt("api-token")
    both = SecretBox.from_settings(_settings(tmp_path, f"{new}, {old}"))
    assert not _settings(tmp_path).key_file.exists()
    rotated = both.rotate(token)
    assert SecretBox([new]).decrypt(rotated) == "api-token"
    with pytest.raises(SecretError):
        SecretBox([old]).decrypt(rotated)


def test_wrong_key_gives_a_clear_error_without_internals() -> None:
    token = SecretBox([SecretBox.generate_key()]).encrypt("api-token")
    with pytest.raises(SecretError) as caught:
        SecretBox([SecretBox.generate_key()]).decrypt(token)
    assert str(caught.value) == (
        "cannot decrypt provider secrets: "
        "the secret key does not match the one they were encrypted with"
    )
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_malformed_key_is_reported_without_echoing_it() -> None:
    bad = "not-a-fernet-key-but-a-real-secret-typo"
    with pytest.raises(SecretError, match="secret key #1 is not a valid Fernet key") as caught:
        SecretBox([bad])
    assert bad not in str(caught.value)


def test_repr_hides_keys() -> None:
    key = SecretBox.generate_key()
    box = SecretBox([key, SecretBox.generate_key()])
    assert key not in repr(box)
    assert key not in str(box)
    assert repr(box) == "SecretBox(<2 key(s) hidden>)"
