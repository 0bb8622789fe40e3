"""Instance settings, read from SENTINELIQ_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str | None  # Fernet key(s), comma-separated, newest first; None -> key file
    allow_private_targets: bool  # lets providers point at loopback/private hosts (demo, tests)

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
        )
