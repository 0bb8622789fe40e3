"""Admin user accounts: creation with a checked password and display name, and look-ups."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sentineliq.services.identity.fields import InvalidFieldError, normalize_user_email
from sentineliq.services.identity.hashing import PasswordHashing
from sentineliq.services.identity.origin import audit_origin
from sentineliq.services.passwords import password_problem
from sentineliq.storage.users import UserRecord, UserRepository

MAX_DISPLAY_NAME_LENGTH = 200


def check_password(password: str, email: str | None = None) -> None:
    """Raise InvalidFieldError("password") if unacceptable for the account `email`
    (services.passwords has the policy). The message never contains the password."""
    problem = password_problem(password, email)
    if problem is not None:
        raise InvalidFieldError("password", problem)


class UserAccounts:
    def __init__(
        self,
        users: UserRepository,
        passwords: PasswordHashing,
        clock: Callable[[], datetime],
    ) -> None:
        self._users = users
        self._passwords = passwords
        self._clock = clock

    def create(
        self,
        email: str,
        password: str,
        *,
        display_name: str | None = None,
        actor: str,
        ip: str | None = None,
        user_agent: str | None = None,
    ) -> UserRecord:
        """InvalidFieldError for a bad email, password or display name; AlreadyExistsError if
        taken."""
        normalized = normalize_user_email(email)
        check_password(password, normalized)
        name = (display_name or "").strip() or None
        if name is not None and len(name) > MAX_DISPLAY_NAME_LENGTH:
            raise InvalidFieldError(
                "display_name", f"must be at most {MAX_DISPLAY_NAME_LENGTH} characters"
            )
        return self._users.create(
            normalized,
            self._passwords.hash(password),
            display_name=name,
            actor=actor,
            origin=audit_origin(ip, user_agent),
            now=self._clock(),
        )

    def get(self, user_id: str) -> UserRecord | None:
        return self._users.get(user_id)

    def find(self, email: str) -> UserRecord | None:
        try:
            return self._users.get_by_email(normalize_user_email(email))
        except InvalidFieldError:
            return None

    def list(self) -> list[UserRecord]:
        return self._users.list()
