"""Who is calling and what they may do: admin users, login sessions, workspace API keys, roles.

Secrets never reach the database: passwords are argon2id hashes, and session cookies and API
keys are random enough that a SHA-256 digest suffices. Every state change is audited in the same
transaction, with the request's origin (ip, user agent) when the caller knows it.

Two refusals, kept apart on purpose: `NotVisible` (the workspace is not the principal's, answer
404 so its existence is not revealed) and `AccessDenied` (visible but not allowed, answer 403).

`IdentityService` is a thin facade over one module per concept:

| module | concept |
|---|---|
| `users.py` | accounts: creation (email, password policy, display name) and look-ups |
| `hashing.py` | argon2id hashing, verification, the equal-cost stand-in for unknown accounts |
| `signin.py` | `authenticate`: the password check behind the throttle, failures audited |
| `throttle.py` | the sign-in throttle's rules (`storage/throttle.py` keeps the counts) |
| `devices.py` | the device cookie that proves a browser and exempts it from the delays |
| `access.py` | principals, roles, permissions, memberships, `authorize` |
| `sessions.py` | login sessions with CSRF tokens, absolute and idle expiry |
| `api_keys.py` | workspace API keys |
| `fields.py`, `origin.py`, `tokens.py` | refused input and email form, audit origin, digests |
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from argon2 import PasswordHasher

from sentineliq.services.context import AppContext
from sentineliq.services.identity.access import (
    API_KEY_PERMISSIONS,
    ROLE_PERMISSIONS,
    AccessDenied,
    NotVisible,
    Permission,
    Principal,
    Role,
    WorkspaceAccess,
)
from sentineliq.services.identity.api_keys import ApiKeys, new_key_prefix
from sentineliq.services.identity.devices import DeviceTokens
from sentineliq.services.identity.fields import InvalidFieldError
from sentineliq.services.identity.hashing import PasswordHashing
from sentineliq.services.identity.origin import audit_origin
from sentineliq.services.identity.sessions import (
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_SESSION_LIFETIME,
    LoginSessions,
    WebSession,
)
from sentineliq.services.identity.signin import SignIn
from sentineliq.services.identity.throttle import SignInThrottle, TooManyAttempts
from sentineliq.services.identity.users import UserAccounts
from sentineliq.services.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from sentineliq.settings import LoginThrottleSettings
from sentineliq.storage.apikeys import ApiKeyRecord, ApiKeyRepository
from sentineliq.storage.sessions import SessionRepository
from sentineliq.storage.throttle import LoginThrottleRepository
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
    "InvalidFieldError",
    "NotVisible",
    "Permission",
    "Principal",
    "Role",
    "TooManyAttempts",
    "UserRecord",
    "WebSession",
    "WorkspaceRecord",
    "audit_origin",
    "new_key_prefix",
]


# The old name, still imported by a test; `web.api.problems.FieldError` is
# a different thing (one entry of a problem+json `errors` list).
FieldError = InvalidFieldError


def _draw_key_prefix() -> str:
    # Looked up here at each call, so `sentineliq.services.identity.new_key_prefix` stays the
    # one name to replace the random source by (the prefix-collision test does).
    return new_key_prefix()


class IdentityService:
    """Each method hands over to the module of its concept (see the table above)."""

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
        policy = throttle or app.settings.login
        users = UserRepository(app.db)
        passwords = PasswordHashing(hasher)
        self._users = UserAccounts(users, passwords, clock)
        self._access = WorkspaceAccess(users, clock)
        self._sessions = LoginSessions(
            SessionRepository(app.db),
            users,
            clock,
            lifetime=session_lifetime,
            idle_timeout=idle_timeout,
        )
        self._keys = ApiKeys(ApiKeyRepository(app.db), clock, new_prefix=_draw_key_prefix)
        self._devices = DeviceTokens(app.secrets, policy, clock)
        self._signin = SignIn(
            db=app.db,
            users=users,
            passwords=passwords,
            throttle=SignInThrottle(LoginThrottleRepository(app.db), policy),
            devices=self._devices,
            sessions=self._sessions,
            clock=clock,
        )

    # -- users and signing in: users.py, signin.py, devices.py ---------------------------------

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
        return self._users.create(
            email, password, display_name=display_name, actor=actor, ip=ip, user_agent=user_agent
        )

    def get_user(self, user_id: str) -> UserRecord | None:
        return self._users.get(user_id)

    def find_user(self, email: str) -> UserRecord | None:
        return self._users.find(email)

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
        return self._signin.authenticate(
            email,
            password,
            ip=ip,
            user_agent=user_agent,
            device_token=device_token,
            session_token=session_token,
        )

    def issue_device_token(self, email: str) -> str:
        return self._devices.issue(email)

    @property
    def device_token_lifetime(self) -> timedelta:
        return self._devices.lifetime

    # -- memberships and authorization: access.py ---------------------------------------------

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
        self._access.add_member(
            workspace_id, user_id, role, actor=actor, ip=ip, user_agent=user_agent
        )

    def workspaces_of(self, user_id: str) -> list[tuple[WorkspaceRecord, Role]]:
        return self._access.workspaces_of(user_id)

    def members_of(self, workspace_id: str) -> list[tuple[UserRecord, Role]]:
        return self._access.members_of(workspace_id)

    def role_in(self, principal: Principal, workspace_id: str) -> Role | None:
        return self._access.role_in(principal, workspace_id)

    def permissions(self, principal: Principal, workspace_id: str) -> frozenset[Permission]:
        return self._access.permissions(principal, workspace_id)

    def authorize(self, principal: Principal, workspace_id: str, permission: Permission) -> None:
        self._access.authorize(principal, workspace_id, permission)

    # -- login sessions: sessions.py ----------------------------------------------------------

    def start_session(self, user_id: str, *, ip: str | None, user_agent: str | None) -> WebSession:
        return self._sessions.start(user_id, ip=ip, user_agent=user_agent)

    def session_principal(self, token: str) -> tuple[Principal, WebSession] | None:
        return self._sessions.principal(token)

    def end_session(
        self, token: str, *, ip: str | None = None, user_agent: str | None = None
    ) -> None:
        self._sessions.end(token, ip=ip, user_agent=user_agent)

    # -- API keys: api_keys.py ----------------------------------------------------------------

    def create_api_key(
        self,
        workspace_id: str,
        name: str,
        *,
        actor: str,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> tuple[ApiKeyRecord, str]:
        return self._keys.create(workspace_id, name, actor=actor, ip=ip, user_agent=user_agent)

    def api_key_principal(self, plaintext: str) -> Principal | None:
        return self._keys.principal(plaintext)

    def list_api_keys(self, workspace_id: str) -> list[ApiKeyRecord]:
        return self._keys.list(workspace_id)

    def revoke_api_key(
        self,
        workspace_id: str,
        key_id: str,
        *,
        actor: str,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> None:
        self._keys.revoke(workspace_id, key_id, actor=actor, ip=ip, user_agent=user_agent)
