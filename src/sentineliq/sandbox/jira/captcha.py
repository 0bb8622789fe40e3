"""The CAPTCHA lock Jira Cloud puts on an account after repeated failed Basic-auth logins.

While locked, every Basic-auth request is refused with 403 and
`X-Authentication-Denied-Reason: CAPTCHA_CHALLENGE; login-url=<site>/login.jsp` (plus
`X-Seraph-LoginReason: AUTHENTICATION_DENIED`), correct credentials or not, until a person signs
in through the browser. Anonymous requests are unaffected. Tests switch the lock by hand or let
N failed logins trigger it, and count the requests refused while locked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from sentineliq.sandbox.jira.wire import Response

DENIED_MESSAGE = "CAPTCHA_CHALLENGE: sign in through the browser to continue."


@dataclass(frozen=True)
class _Settings:
    locked: bool = False
    login_url: str | None = None  # None: <sandbox url>/login.jsp
    after_failed_logins: int | None = None  # lock automatically after this many failures


class CaptchaLock:
    """Thread-safe lock state; `login_url` defaults to the sandbox's own /login.jsp."""

    def __init__(self, base_url: Callable[[], str]) -> None:
        self._base_url = base_url
        self._mutex = threading.Lock()
        self._settings = _Settings()
        self._failed_logins = 0
        self._refused = 0

    def configure(
        self,
        locked: bool,
        *,
        login_url: str | None = None,
        after_failed_logins: int | None = None,
    ) -> None:
        if after_failed_logins is not None and after_failed_logins < 1:
            raise ValueError("after_failed_logins must be at least 1")
        with self._mutex:
            self._settings = _Settings(bool(locked), login_url, after_failed_logins)
            self._failed_logins = 0

    def reset(self) -> None:
        with self._mutex:
            self._settings = _Settings()
            self._failed_logins = 0
            self._refused = 0

    @property
    def refused(self) -> int:
        """Requests refused because of the lock (each one prolongs it on Cloud)."""
        with self._mutex:
            return self._refused

    def failed_login(self) -> None:
        with self._mutex:
            self._failed_logins += 1
            limit = self._settings.after_failed_logins
            if limit is not None and self._failed_logins >= limit:
                self._settings = _Settings(True, self._settings.login_url, limit)

    def refusal(self, has_basic_auth: bool) -> Response | None:
        """The 403 for a Basic-auth request while locked, else None."""
        if not has_basic_auth:
            return None
        with self._mutex:
            if not self._settings.locked:
                return None
            self._refused += 1
            login_url = self._settings.login_url or f"{self._base_url()}/login.jsp"
        headers = {
            "X-Authentication-Denied-Reason": f"CAPTCHA_CHALLENGE; login-url={login_url}",
            "X-Seraph-LoginReason": "AUTHENTICATION_DENIED",
        }
        return Response.json({"errorMessages": [DENIED_MESSAGE], "errors": {}}, 403, headers)
