"""Who is calling and what they may do: admin users, login sessions, workspace API keys, roles.

Secrets never reach the database: passwords are argon2id hashes, and session cookies and API
keys are random enough that a SHA-256 digest suffices. Every state change is audited in the same
transaction, with the request's origin (ip, user agent) when the caller knows it.

Two refusals, kept apart on purpose: `NotVisible` (the workspace is not the principal's, answer
404 so its existence is not revealed) and `AccessDenied` (visible but not allowed, answer 403).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from pydantic import TypeAdapter, ValidationError

from sentineliq.addresses import EmailAddress
from sentineliq.services.context import AppContext
from sentineliq.services.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    password_problem,
)
from sentineliq.settings import LoginThrottleSettings
from sentineliq.storage.apikeys import ApiKeyRecord, ApiKeyRepository, PrefixTakenError
from sentineliq.storage.audit import add_audit
from sentineliq.storage.crypto import SecretError
from sentineliq.storage.errors import InvalidStateError, NotFoundError
from sentineliq.storage.sessions import SessionRepository
from sentineliq.storage.throttle import LoginThrottleRepository, ThrottleKey
from sentineliq.storage.types import utcnow
from sentineliq.storage.users import UserRecord, UserRepository
from sentineliq.storage.workspaces import WorkspaceRecord

__all__ = [
    "API_KEY_PERMISSIONS",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "ROLE_PERMISSIONS",
    "AccessDenied",
    "ApiKeyRecord",
    "FieldError",
    "IdentityService",
    "NotVisible",
    "Permission",
    "Principal",
    "Role",
    "TooManyAttempts",
    "UserRecord",
    "WebSession",
    "WorkspaceRecord",
]


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class Permission(StrEnum):
    VIEW = "view"  # alerts, deliveries, tickets
    INGEST = "ingest"
    MANAGE_PROVIDERS = "manage_providers"  # see/change provider settings, test, enable, delete
    REPLAY = "replay"
    MANAGE_KEYS = "manage_keys"
    VIEW_AUDIT = "view_audit"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.MEMBER: frozenset({Permission.VIEW}),
    Role.ADMIN: frozenset(Permission),
    Role.OWNER: frozenset(Permission),
}
# Keys live in alert sources (SIEMs, scripts): a leaked one can add alerts, never read the
# workspace.
API_KEY_PERMISSIONS: frozenset[Permission] = frozenset({Permission.INGEST})


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "api_key"]
    id: str  # user id or API key id
    name: str  # email or key name
    user_id: str | None
    workspace_id: str | None  # an API key is bound to one workspace; users have None

    @property
    def actor(self) -> str:
        """How this principal is named in the audit log."""
        return self.name if self.kind == "user" else f"api_key:{self.name}"[:200]


@dataclass(frozen=True)
class WebSession:
    token: str = field(repr=False)  # the cookie value: a secret, never stored or logged
    csrf_token: str = field(repr=False)
    expires_at: datetime  # absolute end (idle expiry may come sooner, see idle_expires_at)
    user_id: str
    idle_expires_at: datetime


class AccessDenied(Exception):
    """The workspace is visible to the principal, but the action is not allowed (HTTP 403)."""


class NotVisible(Exception):
    """The principal has no access to the workspace at all (HTTP 404: never reveal it exists)."""


class TooManyAttempts(Exception):
    """Sign-in refused without checking the password: too many recent failures (-> 429).

    `retry_after_s` is when the delay ends, whole seconds rounded up (at least 1).
    """

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after_s} seconds")
        self.retry_after_s = retry_after_s


class FieldError(ValueError):
    """Refused input; `field` names it so forms and problem+json can point at it."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


MAX_DISPLAY_NAME_LENGTH = 200
MAX_KEY_NAME_LENGTH = 100
MAX_USER_AGENT_LENGTH = 512
DEFAULT_SESSION_LIFETIME = timedelta(hours=12)
DEFAULT_IDLE_TIMEOUT = timedelta(minutes=30)
# last_seen_at / last_used_at are written at most this often: one write per request would turn
# every read into a write.
TOUCH_INTERVAL = timedelta(minutes=1)

API_KEY_PREFIX_LENGTH = 8
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_PREFIX_ATTEMPTS = 5

_EMAIL = TypeAdapter(EmailAddress)
# One throwaway hash per hasher configuration: verifying against it costs as much as a real one.
_DUMMY_HASHES: dict[tuple[Any, ...], str] = {}


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_key_prefix() -> str:
    return "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(API_KEY_PREFIX_LENGTH))


def split_api_key(plaintext: str) -> tuple[str, str] | None:
    """(prefix, secret) of a `siq_<prefix>_<secret>` key, or None if it is not shaped like one."""
    end = 4 + API_KEY_PREFIX_LENGTH
    if not plaintext.startswith("siq_") or len(plaintext) <= end + 1 or plaintext[end] != "_":
        return None
    prefix = plaintext[4:end]
    if any(c not in _PREFIX_ALPHABET for c in prefix):
        return None
    return prefix, plaintext[end + 1 :]


def normalize_email(email: str) -> str:
    """Validated (sentineliq.addresses semantics) and lower-cased; FieldError("email") if not."""
    try:
        return _EMAIL.validate_python(email.strip()).lower()
    except ValidationError as exc:
        raise FieldError("email", _first_message(exc)) from None


def canonical_address(typed: str) -> str:
    """The one form all spellings of an address are counted under: what `normalize_email` stores
    for a valid address; for anything else, the text trimmed and case-folded."""
    try:
        return normalize_email(typed)
    except FieldError:
        return typed.strip().casefold()


def check_password(password: str, email: str | None = None) -> None:
    """Raise FieldError("password") if unacceptable for the account `email` (services.passwords
    has the policy). The message never contains the password."""
    problem = password_problem(password, email)
    if problem is not None:
        raise FieldError("password", problem)


def _first_message(exc: ValidationError) -> str:
    message = str(exc.errors()[0]["msg"])
    return message.removeprefix("Value error, ")


def _origin(ip: str | None, user_agent: str | None) -> dict[str, str]:
    origin: dict[str, str] = {}
    if ip:
        origin["ip"] = ip[:64]
    if user_agent:
        origin["user_agent"] = user_agent[:MAX_USER_AGENT_LENGTH]
    return origin


DEVICE_TOKEN_VERSION = 1
_MAX_DEVICE_TOKEN_LENGTH = 2048  # ours are about 200 characters; never decrypt junk megabytes


class IdentityService:
    def __init__(
        self,
        app: AppContext,
        *,
        clock: Callable[[], datetime] = utcnow,
        session_lifetime: timedelta = DEFAULT_SESSION_LIFETIME,
        idle_timeout: timedelta = DEFAULT_IDLE_TIMEOUT,
        hasher: PasswordHasher | None = None,
        throttle: LoginThrottleSettings | None = None,
    ) -> None:
        self._clock = clock
        self._lifetime = session_lifetime
        self._idle = idle_timeout
        self._hasher = hasher or PasswordHasher()  # argon2id with the library's defaults
        self._users = UserRepository(app.db)
        self._sessions = SessionRepository(app.db)
        self._keys = ApiKeyRepository(app.db)
        self._throttle = LoginThrottleRepository(app.db)
        self._policy = throttle or app.settings.login
        self._secrets = app.secrets
        self._db = app.db

    # -- users -------------------------------------------------------------------------------

    def create_user(
        self,
        email: str,
        password: str,
        *,
        display_name: str | None = None,
        actor: str,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> UserRecord:
        """FieldError for a bad email, password or display name; AlreadyExistsError if taken."""
        normalized = normalize_email(email)
        check_password(password, normalized)
        name = (display_name or "").strip() or None
        if name is not None and len(name) > MAX_DISPLAY_NAME_LENGTH:
            raise FieldError(
                "display_name", f"must be at most {MAX_DISPLAY_NAME_LENGTH} characters"
            )
        return self._users.create(
            normalized,
            self._hasher.hash(password),
            display_name=name,
            actor=actor,
            origin=_origin(ip, user_agent),
            now=self._clock(),
        )

    def get_user(self, user_id: str) -> UserRecord | None:
        return self._users.get(user_id)

    def find_user(self, email: str) -> UserRecord | None:
        try:
            return self._users.get_by_email(normalize_email(email))
        except FieldError:
            return None

    def list_users(self) -> list[UserRecord]:
        return self._users.list()

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
        address or the client IP is delayed (see `_blocked_until`), it raises TooManyAttempts
        before any verification: guessing stays slow, and a flood of sign-ins cannot make the
        server run argon2 without limit.

        A proven browser (a `device_token` from `issue_device_token`, or a live `session_token`,
        for this very address) is exempt from the address and client delays, so an attacker
        elsewhere cannot keep the owner out; its own failures are counted per device, and after
        `free_failures` of them it is an ordinary client again.
        """
        try:
            normalized: str | None = normalize_email(email)
        except FieldError:
            normalized = None
        canonical = normalized if normalized is not None else email.strip().casefold()
        now = self._clock()
        forget_before = now - timedelta(seconds=self._policy.forget_after_s)
        address = _address_key(canonical, valid=normalized is not None)
        client = ThrottleKey("client", ip[:64]) if ip else None
        device = self._proof(canonical, device_token, session_token, now)
        shared = [address] if client is None else [address, client]
        states = self._throttle.get(
            [*shared, *([device] if device else [])], forget_before=forget_before
        )
        device_state = states.get(device) if device is not None else None
        proven = device is not None and (
            device_state is None or device_state.failures < self._policy.free_failures
        )
        waits = [
            state.blocked_until
            for key in ([] if proven else shared)
            if (state := states.get(key)) is not None
            and state.blocked_until is not None
            and state.blocked_until > now
        ]
        if waits:
            raise TooManyAttempts(max(1, math.ceil((max(waits) - now).total_seconds())))

        found = self._users.credentials(normalized) if normalized is not None else None
        if found is None:
            self._verify(self._dummy_hash(), password)
            reason = "unknown_user"
        else:
            user, stored_hash = found
            if not self._verify(stored_hash, password):
                reason = "wrong_password"
            elif not user.is_active:
                reason = "inactive"
            else:
                if self._needs_rehash(stored_hash):
                    self._users.replace_password_hash(
                        user.id, stored_hash, self._hasher.hash(password)
                    )
                if device is not None:
                    # Only this browser's own slate is wiped: the address and client counters
                    # hold what others did (see docs/security.md).
                    self._throttle.reset(device)
                return user
        # A proven browser's failures are its own; everyone else's count for the address and
        # the client (and the device, so a device that fails too often loses its exemption).
        counted = [device] if proven and device is not None else [*shared]
        if device is not None and not proven:
            counted.append(device)
        self._throttle.record_failure(
            counted, now=now, forget_before=forget_before, block=self._blocked_until
        )
        self._throttle.prune(forget_before=forget_before)
        self._login_failed(email if found is None else found[0].email, reason, ip, user_agent)
        return None

    def issue_device_token(self, email: str) -> str:
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
        return self._secrets.encrypt(json.dumps(payload, separators=(",", ":")))

    @property
    def device_token_lifetime(self) -> timedelta:
        return timedelta(seconds=self._policy.device_cookie_s)

    def _proof(
        self,
        canonical: str,
        device_token: str | None,
        session_token: str | None,
        now: datetime,
    ) -> ThrottleKey | None:
        """The device key of a browser proven for this address, or None."""
        if device_token and len(device_token) <= _MAX_DEVICE_TOKEN_LENGTH:
            device_id = self._device_id(device_token, canonical, now)
            if device_id is not None:
                return ThrottleKey("device", sha256_hex(device_id))
        if session_token:
            found = self.session_principal(session_token)
            if found is not None and found[0].name == canonical:
                return ThrottleKey("device", sha256_hex(f"session:{session_token}"))
        return None

    def _device_id(self, token: str, canonical: str, now: datetime) -> str | None:
        try:
            data = json.loads(self._secrets.decrypt(token))
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

    def _blocked_until(self, key: ThrottleKey, failures: int, now: datetime) -> datetime | None:
        """Progressive delay: after the free failures, first_delay_s, doubling, up to
        max_delay_s. Devices are never delayed; too many failures end their exemption instead."""
        if key.kind == "device":
            return None
        policy = self._policy
        free = policy.client_free_failures if key.kind == "client" else policy.free_failures
        extra = failures - free
        if extra <= 0:
            return None
        delay = min(policy.first_delay_s * 2.0 ** min(extra - 1, 60), policy.max_delay_s)
        return now + timedelta(seconds=delay)

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return False

    def _dummy_hash(self) -> str:
        h = self._hasher
        params = (h.time_cost, h.memory_cost, h.parallelism, h.hash_len, h.salt_len, h.type)
        if params not in _DUMMY_HASHES:
            _DUMMY_HASHES[params] = h.hash(secrets.token_urlsafe(16))
        return _DUMMY_HASHES[params]

    def _login_failed(
        self, email: str, reason: str, ip: str | None, user_agent: str | None
    ) -> None:
        shown = _shown_email(email)
        with self._db.session() as session:
            add_audit(
                session,
                "login.failed",
                actor=shown[:200],
                details={"email": shown, "reason": reason, **_origin(ip, user_agent)},
                at=self._clock(),
            )

    # -- memberships and authorization --------------------------------------------------------

    def add_member(
        self,
        workspace_id: str,
        user_id: str,
        role: Role,
        *,
        actor: str,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> None:
        """Add the user to the workspace with `role`, or change their role there.

        NotFoundError if the user or the workspace does not exist.
        """
        self._users.set_membership(
            workspace_id,
            user_id,
            Role(role).value,
            actor=actor,
            origin=_origin(ip, user_agent),
            now=self._clock(),
        )

    def workspaces_of(self, user_id: str) -> list[tuple[WorkspaceRecord, Role]]:
        return [(ws, Role(role)) for ws, role in self._users.workspaces_of(user_id)]

    def members_of(self, workspace_id: str) -> list[tuple[UserRecord, Role]]:
        return [(user, Role(role)) for user, role in self._users.members_of(workspace_id)]

    def role_in(self, principal: Principal, workspace_id: str) -> Role | None:
        """The user's role in the workspace. An API key has none: Role.MEMBER in its own
        workspace (so it counts as visible; its permissions are API_KEY_PERMISSIONS), else None."""
        if principal.kind == "api_key":
            return Role.MEMBER if principal.workspace_id == workspace_id else None
        if principal.user_id is None:
            return None
        role = self._users.role_in(principal.user_id, workspace_id)
        return Role(role) if role is not None else None

    def permissions(self, principal: Principal, workspace_id: str) -> frozenset[Permission]:
        """Everything the principal may do in the workspace (empty: not visible)."""
        if principal.kind == "api_key":
            return API_KEY_PERMISSIONS if principal.workspace_id == workspace_id else frozenset()
        role = self.role_in(principal, workspace_id)
        return ROLE_PERMISSIONS[role] if role is not None else frozenset()

    def authorize(self, principal: Principal, workspace_id: str, permission: Permission) -> None:
        """NotVisible if the workspace is not the principal's at all, AccessDenied if the
        permission is missing; returns quietly when allowed."""
        allowed = self.permissions(principal, workspace_id)
        if not allowed:
            raise NotVisible("workspace not found")
        if permission not in allowed:
            raise AccessDenied(f"this requires the {Permission(permission).value} permission")

    # -- login sessions -----------------------------------------------------------------------

    def start_session(self, user_id: str, *, ip: str | None, user_agent: str | None) -> WebSession:
        """A new login session (audited as session.started); the token goes in the cookie."""
        user = self._users.get(user_id)
        if user is None:
            raise NotFoundError(f"user {user_id!r} not found")
        if not user.is_active:
            raise InvalidStateError("this account is disabled")
        now = self._clock()
        token = secrets.token_urlsafe(32)
        origin = _origin(ip, user_agent)
        record = self._sessions.create(
            sha256_hex(token),
            user.id,
            secrets.token_urlsafe(32),
            now=now,
            expires_at=now + self._lifetime,
            idle_timeout_s=int(self._idle.total_seconds()),
            ip=origin.get("ip"),
            user_agent=origin.get("user_agent"),
            actor=user.email,
        )
        return WebSession(
            token=token,
            csrf_token=record.csrf_token,
            expires_at=record.expires_at,
            user_id=user.id,
            idle_expires_at=min(record.expires_at, now + self._idle),
        )

    def session_principal(self, token: str) -> tuple[Principal, WebSession] | None:
        """The signed-in user for a cookie value, or None if unknown, ended, expired (absolute
        or idle) or the account is disabled. Activity slides the idle expiry."""
        if not token:
            return None
        record = self._sessions.get(sha256_hex(token))
        now = self._clock()
        if record is None or record.revoked_at is not None or now >= record.expires_at:
            return None
        idle = timedelta(seconds=record.idle_timeout_s)
        if now >= record.last_seen_at + idle:
            return None
        user = self._users.get(record.user_id)
        if user is None or not user.is_active:
            return None
        last_seen = record.last_seen_at
        if now - last_seen >= TOUCH_INTERVAL:
            self._sessions.touch(record.id, now)
            last_seen = now
        principal = Principal(
            kind="user", id=user.id, name=user.email, user_id=user.id, workspace_id=None
        )
        session = WebSession(
            token=token,
            csrf_token=record.csrf_token,
            expires_at=record.expires_at,
            user_id=user.id,
            idle_expires_at=min(record.expires_at, last_seen + idle),
        )
        return principal, session

    def end_session(
        self, token: str, *, ip: str | None = None, user_agent: str | None = None
    ) -> None:
        """Log out: the token stops working at once. Unknown or ended tokens are ignored."""
        if not token:
            return
        record = self._sessions.get(sha256_hex(token))
        if record is None:
            return
        user = self._users.get(record.user_id)
        origin = _origin(ip, user_agent)
        self._sessions.revoke(
            record.id,
            now=self._clock(),
            actor=user.email if user is not None else f"user:{record.user_id}",
            ip=origin.get("ip"),
            user_agent=origin.get("user_agent"),
        )

    # -- API keys -----------------------------------------------------------------------------

    def create_api_key(
        self,
        workspace_id: str,
        name: str,
        *,
        actor: str,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> tuple[ApiKeyRecord, str]:
        """A new key and its plaintext `siq_<prefix>_<secret>`: shown once, stored hashed.

        FieldError("name") for an empty or long name; NotFoundError for an unknown workspace.
        """
        clean = name.strip()
        if not clean or len(clean) > MAX_KEY_NAME_LENGTH:
            raise FieldError("name", f"must be 1 to {MAX_KEY_NAME_LENGTH} characters")
        for _ in range(_PREFIX_ATTEMPTS):
            prefix = new_key_prefix()
            plaintext = f"siq_{prefix}_{secrets.token_urlsafe(32)}"
            try:
                record = self._keys.create(
                    workspace_id,
                    clean,
                    prefix,
                    sha256_hex(plaintext),
                    actor=actor,
                    now=self._clock(),
                    origin=_origin(ip, user_agent),
                )
            except PrefixTakenError:
                continue  # 36^8 prefixes: a repeat collision means a broken random source
            return record, plaintext
        raise RuntimeError("could not find a free API key prefix")

    def api_key_principal(self, plaintext: str) -> Principal | None:
        """The key's principal, or None for unknown, malformed or revoked keys."""
        parts = split_api_key(plaintext)
        if parts is None:
            return None
        found = self._keys.by_prefix(parts[0])
        if found is None:
            return None
        record, key_hash = found
        if not hmac.compare_digest(sha256_hex(plaintext), key_hash):
            return None
        if record.revoked_at is not None:
            return None
        now = self._clock()
        if record.last_used_at is None or now - record.last_used_at >= TOUCH_INTERVAL:
            self._keys.touch(record.id, now, not_after=now - TOUCH_INTERVAL)
        return Principal(
            kind="api_key",
            id=record.id,
            name=record.name,
            user_id=None,
            workspace_id=record.workspace_id,
        )

    def list_api_keys(self, workspace_id: str) -> list[ApiKeyRecord]:
        """Newest first, revoked ones included; never a secret or hash."""
        return self._keys.list_for_workspace(workspace_id)

    def revoke_api_key(
        self,
        workspace_id: str,
        key_id: str,
        *,
        actor: str,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> None:
        """Stops the key at once. NotFoundError if it is not this workspace's; revoking twice is
        a no-op."""
        self._keys.revoke(
            workspace_id, key_id, actor=actor, now=self._clock(), origin=_origin(ip, user_agent)
        )


def _address_key(canonical: str, *, valid: bool) -> ThrottleKey:
    # Text that is not an address may be a password typed into the wrong box: keep only a digest.
    return ThrottleKey("address", canonical if valid else f"sha256:{sha256_hex(canonical)}")


def _shown_email(typed: str) -> str:
    # Whatever was typed is only recorded if it is an email address: people type passwords into
    # the wrong box, and the audit log must never hold one.
    return typed[:320] if _looks_like_email(typed) else "(not an email address)"


def _looks_like_email(text: str) -> bool:
    local, at, domain = text.partition("@")
    return bool(at and local and "." in domain and not any(c.isspace() for c in text))


def audit_origin(ip: str | None, user_agent: str | None) -> Mapping[str, str]:
    """Audit `details` for a request's origin, for callers recording their own entries."""
    return _origin(ip, user_agent)
