"""The device cookie: proof that this browser has signed in as an address before.

A proven browser is exempt from the address and client delays of the sign-in throttle, so an
attacker elsewhere cannot keep the owner out.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from sentineliq.services.identity.fields import canonical_address
from sentineliq.settings import LoginThrottleSettings
from sentineliq.storage.crypto import SecretBox, SecretError

DEVICE_TOKEN_VERSION = 1
_MAX_DEVICE_TOKEN_LENGTH = 2048  # ours are about 200 characters; never decrypt junk megabytes


class DeviceTokens:
    def __init__(
        self,
        box: SecretBox,
        policy: LoginThrottleSettings,
        clock: Callable[[], datetime],
    ) -> None:
        self._box = box
        self._policy = policy
        self._clock = clock

    def issue(self, email: str) -> str:
        """The value of a proven browser's device cookie, after a successful sign-in as `email`.

        Encrypted and authenticated with the instance's secret key (Fernet: AES plus HMAC), so
        it cannot be forged or read; it names the canonical address, a random device id and
        when it was issued. A new id each time: failures counted against an old one stay there.
        """
        payload = {
            "v": DEVICE_TOKEN_VERSION,
            "a": canonical_address(email),
            "d": secrets.token_urlsafe(16),
            "t": int(self._clock().timestamp()),
        }
        return self._box.encrypt(json.dumps(payload, separators=(",", ":")))

    @property
    def lifetime(self) -> timedelta:
        return timedelta(seconds=self._policy.device_cookie_s)

    def device_id(self, token: str, canonical: str, now: datetime) -> str | None:
        """The random device id of a live token issued for this very address, else None."""
        if len(token) > _MAX_DEVICE_TOKEN_LENGTH:
            return None
        try:
            data = json.loads(self._box.decrypt(token))
        except (SecretError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("v") != DEVICE_TOKEN_VERSION:
            return None
        address, device_id, issued = data.get("a"), data.get("d"), data.get("t")
        if not (
            isinstance(address, str) and isinstance(device_id, str) and isinstance(issued, int)
        ):
            return None
        age = now.timestamp() - issued
        if address != canonical or not 0 <= age <= self._policy.device_cookie_s:
            return None
        return device_id
