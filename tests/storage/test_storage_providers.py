"""Provider configs: upsert per (workspace, provider), secrets encrypted at rest, masked on read."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import text
from storage_samples import TOKEN, jira_config

from sentineliq.storage import (
    MASK,
    AuditRepository,
    Database,
    NotFoundError,
    ProviderRecord,
    ProviderRepository,
    SecretBox,
    SecretError,
    WorkspaceRecord,
    WorkspaceRepository,
)
from sentineliq.storage.engine import sqlite_path


def _save(
    providers: ProviderRepository, workspace: WorkspaceRecord, **overrides: Any
) -> ProviderRecord:
    config = {**jira_config(), **overrides}
    return providers.save(workspace.id, "jira", config, secret_fields={"api_token"}, actor="cli")


def _raw_configs(database: Database) -> str:
    with database.engine.connect() as connection:
        # The raw column as the server stores it: JSONB as text on PG, the JSON text on SQLite.
        column = "config::text" if database.url.get_backend_name() == "postgresql" else "config"
        query = text(f"SELECT {column} FROM ticket_providers")  # noqa: S608 (constant input)
        return "\n".join(str(value) for (value,) in connection.execute(query))


def test_token_is_encrypted_at_rest(
    database: Database, providers: ProviderRepository, workspace: WorkspaceRecord
) -> None:
    _save(providers, workspace)
    raw = _raw_configs(database)
    assert "$encrypted" in raw
    assert TOKEN not in raw
    assert "acme.atlassian.net" in raw  # non-secret fields stay readable (and queryable)
    path = sqlite_path(database.url)
    if path is not None:
        database.dispose()  # checkpoint the WAL so nothing hides in a side file only
        files = [path, path.with_name(path.name + "-wal")]
        blob = b"".join(f.read_bytes() for f in files if f.exists())
        assert b"acme.atlassian.net" in blob  # the check below looks at the right bytes
        assert TOKEN.encode() not in blob
    audit = AuditRepository(database).list(workspace.id)
    assert audit[0].action == "provider.configured"
    assert TOKEN not in repr(audit)
    assert audit[0].details["config"]["api_token"] == MASK


def test_masked_and_decrypted_reads(
    providers: ProviderRepository, workspace: WorkspaceRecord
) -> None:
    saved = _save(providers, workspace)
    assert saved.config["api_token"] == MASK
    masked = providers.get(workspace.id, "jira", decrypt=False)
    assert masked is not None
    assert masked.config["api_token"] == MASK
    assert masked.has_secret
    assert masked.secret_fields == {"api_token"}
    assert masked.config["email"] == "bot@acme.example"
    revealed = providers.get(workspace.id, "jira", decrypt=True)
    assert revealed is not None
    assert revealed.config["api_token"] == TOKEN
    # Records end up in logs; even a decrypted one must not print its secret.
    assert TOKEN not in repr(revealed)
    assert TOKEN not in str(revealed)
    assert providers.get(workspace.id, "github", decrypt=False) is None


def test_config_version_bumps_only_on_change(
    providers: ProviderRepository, workspace: WorkspaceRecord
) -> None:
    first = _save(providers, workspace)
    assert first.config_version == 1
    assert _save(providers, workspace).config_version == 1  # same plaintext, new Fernet token
    assert _save(providers, workspace, project_key="OPS").config_version == 2
    assert _save(providers, workspace, project_key="OPS", api_token="rotated").config_version == 3
    # A masked secret (a form round trip) keeps the stored one: no change.
    kept = _save(providers, workspace, project_key="OPS", api_token=MASK)
    assert kept.config_version == 3
    revealed = providers.get(workspace.id, "jira", decrypt=True)
    assert revealed is not None
    assert revealed.config["api_token"] == "rotated"
    # Enabling/disabling is not a config change.
    assert providers.set_enabled(workspace.id, "jira", False).config_version == 3


def test_one_row_per_workspace_and_provider(
    database: Database, providers: ProviderRepository, workspace: WorkspaceRecord
) -> None:
    other = WorkspaceRepository(database).create("other-team")
    _save(providers, workspace)
    _save(providers, workspace, project_key="OPS")
    _save(providers, other)
    with database.engine.connect() as connection:
        count = connection.scalar(text("SELECT count(*) FROM ticket_providers"))
    assert count == 2


def test_enable_disable_and_list_enabled(
    providers: ProviderRepository, workspace: WorkspaceRecord
) -> None:
    _save(providers, workspace)
    providers.save(workspace.id, "github", {"repo": "acme/sec"}, enabled=False)
    assert [p.provider for p in providers.list_enabled(workspace.id)] == ["jira"]
    assert [p.provider for p in providers.list(workspace.id)] == ["github", "jira"]
    providers.set_enabled(workspace.id, "github", True)
    providers.set_enabled(workspace.id, "jira", False)
    enabled = providers.list_enabled(workspace.id, decrypt=True)
    assert [p.provider for p in enabled] == ["github"]
    with pytest.raises(NotFoundError):
        providers.set_enabled(workspace.id, "servicenow", True)


def test_wrong_key_is_a_clear_error(
    database: Database, providers: ProviderRepository, workspace: WorkspaceRecord
) -> None:
    _save(providers, workspace)
    stranger = ProviderRepository(database, SecretBox([SecretBox.generate_key()]))
    masked = stranger.get(workspace.id, "jira", decrypt=False)  # masking needs no key
    assert masked is not None
    assert masked.config["api_token"] == MASK
    with pytest.raises(SecretError, match="secret key does not match"):
        stranger.get(workspace.id, "jira", decrypt=True)
    # Re-entering the secret under the new key recovers the provider.
    recovered = stranger.save(
        workspace.id, "jira", jira_config("new-token"), secret_fields={"api_token"}
    )
    assert recovered.config_version == 2
    revealed = stranger.get(workspace.id, "jira", decrypt=True)
    assert revealed is not None
    assert revealed.config["api_token"] == "new-token"


def test_rotate_secrets_moves_tokens_to_the_new_key(
    database: Database, workspace: WorkspaceRecord
) -> None:
    old, new = SecretBox.generate_key(), SecretBox.generate_key()
    ProviderRepository(database, SecretBox([old])).save(
        workspace.id, "jira", jira_config(), secret_fields={"api_token"}
    )
    assert ProviderRepository(database, SecretBox([new, old])).rotate_secrets() == 1
    only_new = ProviderRepository(database, SecretBox([new]))
    revealed = only_new.get(workspace.id, "jira", decrypt=True)
    assert revealed is not None
    assert revealed.config["api_token"] == TOKEN
    assert revealed.config_version == 1


def test_invalid_input_is_refused(
    providers: ProviderRepository, workspace: WorkspaceRecord
) -> None:
    with pytest.raises(ValueError, match="provider name"):
        providers.save(workspace.id, "Jira Cloud", {})
    with pytest.raises(ValueError, match="must be a string"):
        providers.save(workspace.id, "jira", {"api_token": 123}, secret_fields={"api_token"})
    with pytest.raises(ValueError, match="no stored secret to keep"):
        providers.save(workspace.id, "jira", {"api_token": MASK}, secret_fields={"api_token"})
    with pytest.raises(NotFoundError):
        providers.save("00000000-0000-0000-0000-000000000000", "jira", {})


def test_concurrent_first_saves_end_in_one_row(
    database: Database, providers: ProviderRepository, workspace: WorkspaceRecord
) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def save(project: str) -> None:
        try:
            barrier.wait(timeout=30)
            _save(providers, workspace, project_key=project)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=save, args=(f"P{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    [record] = providers.list(workspace.id)
    assert record.config["project_key"] in {"P0", "P1", "P2", "P3"}
    assert 1 <= record.config_version <= 4
