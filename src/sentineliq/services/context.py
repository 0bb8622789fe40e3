"""The open application: settings, database and secrets, created once per process."""

from __future__ import annotations

from dataclasses import dataclass

from sentineliq.settings import Settings
from sentineliq.storage.crypto import SecretBox
from sentineliq.storage.db import Database
from sentineliq.storage.errors import NotFoundError
from sentineliq.storage.workspaces import WorkspaceRecord, WorkspaceRepository


@dataclass
class AppContext:
    settings: Settings
    db: Database
    secrets: SecretBox

    @classmethod
    def open(cls, settings: Settings | None = None) -> AppContext:
        settings = settings or Settings.from_env()
        return cls(settings, Database.from_settings(settings), SecretBox.from_settings(settings))

    def workspace(self, ref: str) -> WorkspaceRecord:
        """A workspace by id or, for people typing commands, by name."""
        workspaces = WorkspaceRepository(self.db)
        found = workspaces.get(ref) or workspaces.get_by_name(ref)
        if found is None:
            raise NotFoundError(f"workspace {ref!r} not found (give its id or name)")
        return found

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> AppContext:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
