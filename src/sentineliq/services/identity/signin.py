"""Signing in: the password check behind the sign-in throttle, a proven browser's exemption,
and each failure counted and audited (never with what was typed, unless it is an address)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sentineliq.services.identity.devices import DeviceTokens
from sentineliq.services.identity.fields import InvalidFieldError, normalize_user_email
from sentineliq.services.identity.hashing import PasswordHashing
from sentineliq.services.identity.origin import audit_origin
from sentineliq.services.identity.sessions import LoginSessions
from sentineliq.services.identity.throttle import SignInThrottle, device_key
from sentineliq.storage.audit import add_audit
from sentineliq.storage.db import Database
from sentineliq.storage.throttle import ThrottleKey
from sentineliq.storage.users import UserRecord, UserRepository


class SignIn:
    def __init__(
        self,
        *,
        db: Database,
        users: UserRepository,
        passwords: PasswordHashing,
        throttle: SignInThrottle,
        devices: DeviceTokens,
        sessions: LoginSessions,
        clock: Callable[[], datetime],
    ) -> None:
        self._db = db
        self._users = users
        self._passwords = passwords
        self._throttle = throttle
        self._devices = devices
        self._sessions = sessions
        self._clock = clock

    def authenticate(
        self,
        email: str,
        password: str,
        *,
        ip: str | None = None,
        user_agent: str | None = None,
        device_token: str | None = None,
        session_token: str | None = None,
    ) -> UserRecord | None:
        """The user if the password is right and the account active; else None (audited).

        Unknown emails still cost one argon2 verification and are counted exactly like known
        ones, so neither timing nor the throttle tells which addresses have accounts. While the
        address or the client IP is delayed (see `SignInThrottle`), it raises TooManyAttempts
        before any verification: guessing stays slow, and a flood of sign-ins cannot make the
        server run argon2 without limit.

        A proven browser (a `device_token` from `DeviceTokens.issue`, or a live `session_token`,
        for this very address) is exempt from the address and client delays, so an attacker
        elsewhere cannot keep the owner out; its own failures are counted per device, and after
        `free_failures` of them it is an ordinary client again.
        """
        try:
            normalized: str | None = normalize_user_email(email)
        except InvalidFieldError:
            normalized = None
        canonical = normalized if normalized is not None else email.strip().casefold()
        now = self._clock()
        attempt = self._throttle.admit(
            canonical,
            valid=normalized is not None,
            ip=ip,
            device=self._proof(canonical, device_token, session_token, now),
            now=now,
        )

        found = self._users.credentials(normalized) if normalized is not None else None
        if found is None:
            self._passwords.verify(self._passwords.dummy_hash(), password)
            reason = "unknown_user"
        else:
            user, stored_hash = found
            if not self._passwords.verify(stored_hash, password):
                reason = "wrong_password"
            elif not user.is_active:
                reason = "inactive"
            else:
                if self._passwords.needs_rehash(stored_hash):
                    self._users.replace_password_hash(
                        user.id, stored_hash, self._passwords.hash(password)
                    )
                self._throttle.succeeded(attempt)
                return user
        self._throttle.failed(attempt)
        self._login_failed(email if found is None else found[0].email, reason, ip, user_agent)
        return None

    def _proof(
        self,
        canonical: str,
        device_token: str | None,
        session_token: str | None,
        now: datetime,
    ) -> ThrottleKey | None:
        """The device key of a browser proven for this address, or None."""
        if device_token:
            device_id = self._devices.device_id(device_token, canonical, now)
            if device_id is not None:
                return device_key(device_id)
        if session_token:
            found = self._sessions.principal(session_token)
            if found is not None and found[0].name == canonical:
                return device_key(f"session:{session_token}")
        return None

    def _login_failed(
        self, email: str, reason: str, ip: str | None, user_agent: str | None
    ) -> None:
        shown = _shown_email(email)
        with self._db.session() as session:
            add_audit(
                session,
                "login.failed",
                actor=shown[:200],
                details={"email": shown, "reason": reason, **audit_origin(ip, user_agent)},
                at=self._clock(),
            )


def _shown_email(typed: str) -> str:
    # Whatever was typed is only recorded if it is an email address: people type passwords into
    # the wrong box, and the audit log must never hold one.
    return typed[:320] if _looks_like_email(typed) else "(not an email address)"


def _looks_like_email(text: str) -> bool:
    local, at, domain = text.partition("@")
    return bool(at and local and "." in domain and not any(c.isspace() for c in text))
