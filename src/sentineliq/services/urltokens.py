"""Sender URLs: a per-input token for tools that can only be given a URL (Splunk's webhook
alert action, for one), as Slack's incoming webhooks and Opsgenie's integration URLs work.

A token is `siqh_<prefix>_<secret>`, shown once inside its URL `/api/v1/hooks/<token>`, stored
like an API key (the SHA-256 of the whole, compared in constant time; the prefix finds the row).
It authorizes posting to one generic-webhook input (a saved mapping or a preset) of one
workspace, and nothing else. Revoke and create again to rotate.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sentineliq.services.context import AppContext
from sentineliq.services.identity import Principal, new_key_prefix
from sentineliq.services.identity.origin import audit_origin
from sentineliq.services.identity.tokens import TOUCH_INTERVAL, sha256_hex
from sentineliq.services.mappings import check_name, find_mapping
from sentineliq.storage.apikeys import PrefixTakenError
from sentineliq.storage.types import utcnow
from sentineliq.storage.urltokens import UrlTokenRecord, UrlTokenRepository

HOOKS_PATH = "/api/v1/hooks/"
TOKEN_PREFIX = "siqh_"  # noqa: S105 - the token's fixed head, not a secret
_SHAPE = re.compile(r"^siqh_([a-z0-9]{8})_[A-Za-z0-9_-]{20,100}$")
_PREFIX_ATTEMPTS = 5


@dataclass(frozen=True)
class CreatedUrlToken:
    record: UrlTokenRecord
    token: str  # the plaintext: shown once, never stored

    @property
    def path(self) -> str:
        return HOOKS_PATH + self.token


class UrlTokens:
    def __init__(self, app: AppContext, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._app = app
        self._repo = UrlTokenRepository(app.db)
        self._clock = clock

    def create(
        self,
        workspace_id: str,
        input_name: str,
        *,
        actor: str,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> CreatedUrlToken:
        """A new token for input `input_name` (a saved mapping or a preset). MappingError for a
        bad or unknown name; NotFoundError for an unknown workspace. Audited."""
        name = check_name(input_name)
        find_mapping(self._app, workspace_id, name)
        for _ in range(_PREFIX_ATTEMPTS):
            prefix = new_key_prefix()
            token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
            try:
                record = self._repo.create(
                    workspace_id,
                    name,
                    prefix,
                    sha256_hex(token),
                    actor=actor,
                    now=self._clock(),
                    origin=audit_origin(ip, user_agent),
                )
            except PrefixTakenError:
                continue
            return CreatedUrlToken(record, token)
        raise RuntimeError("could not find a free URL token prefix")

    def verify(self, token: str) -> UrlTokenRecord | None:
        """The live token's record, or None for a malformed, unknown, wrong or revoked one
        (the caller answers all of them alike)."""
        shape = _SHAPE.match(token)
        if shape is None:
            return None
        found = self._repo.by_prefix(shape.group(1))
        if found is None:
            return None
        record, token_hash = found
        if not hmac.compare_digest(sha256_hex(token), token_hash):
            return None
        if record.revoked_at is not None:
            return None
        now = self._clock()
        if record.last_used_at is None or now - record.last_used_at >= TOUCH_INTERVAL:
            self._repo.touch(record.id, now, not_after=now - TOUCH_INTERVAL)
        return record

    def list(self, workspace_id: str, input_name: str | None = None) -> list[UrlTokenRecord]:
        """Newest first, revoked ones included; never a token or hash."""
        return self._repo.list_for_input(workspace_id, input_name)

    def revoke(
        self,
        workspace_id: str,
        input_name: str,
        token_id: str,
        *,
        actor: str,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> bool:
        """Stops the token at once (False: it already was). NotFoundError if not this input's."""
        return self._repo.revoke(
            workspace_id,
            input_name,
            token_id,
            actor=actor,
            now=self._clock(),
            origin=audit_origin(ip, user_agent),
        )


def principal_of(record: UrlTokenRecord) -> Principal:
    """Who posts through the sender URL: named `url_token:<prefix>` in the audit log."""
    return Principal(
        kind="url_token",
        id=record.id,
        name=record.prefix,
        user_id=None,
        workspace_id=record.workspace_id,
    )
