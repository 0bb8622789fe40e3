"""Classify Jira answers and transport failures into ProviderError, with human messages.

The split that matters most is NETWORK versus AMBIGUOUS: a failure before the request left
(connect refused, DNS, connect timeout) is safe to repeat, while a failure after it was sent
(read timeout, dropped connection) may hide a created issue, so the caller must reconcile before
creating again. Messages never carry the API token or the Authorization header: they are built
from our own words plus Jira's error texts, and every piece is scrubbed of known secrets.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx2

from sentineliq.providers.base import ErrorKind, ProviderError
from sentineliq.providers.net import BlockedTargetError

_MAX_DETAIL = 500
# A URL we may repeat to an operator: http(s), no spaces or quotes, bounded length.
_PLAIN_URL = re.compile(r"^https?://[^\s\"'<>]{1,300}$")
_REDACTED = "[redacted]"

# Transport errors raised before any byte of the request reached the server.
_NOT_SENT: tuple[type[httpx2.TransportError], ...] = (
    httpx2.ConnectError,
    httpx2.ConnectTimeout,
    httpx2.PoolTimeout,
    httpx2.ProxyError,
    httpx2.LocalProtocolError,
    httpx2.UnsupportedProtocol,
)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"


def _body(response: httpx2.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def jira_messages(body: Any) -> tuple[list[str], dict[str, str]]:
    """Jira's ErrorCollection: general `errorMessages` and per-field `errors`."""
    if not isinstance(body, Mapping):
        return [], {}
    messages = [str(m) for m in body.get("errorMessages") or () if str(m).strip()]
    for key in ("message", "errorMessage"):  # gateway and legacy shapes
        if isinstance(body.get(key), str) and body[key].strip():
            messages.append(body[key])
    errors = body.get("errors")
    fields = {str(k): str(v) for k, v in errors.items()} if isinstance(errors, Mapping) else {}
    return messages, fields


def _login_url(denied_reason: str) -> str:
    """The `login-url=` of X-Authentication-Denied-Reason, if it is a plain http(s) URL."""
    for part in denied_reason.split(";"):
        name, _, value = part.strip().partition("=")
        url = value.strip()
        if name.strip().lower() == "login-url" and _PLAIN_URL.match(url):
            return url
    return "the site's login page (/login.jsp)"


def _seconds_until(moment: datetime, now: float) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - now)


def parse_retry_after(
    headers: Mapping[str, str], *, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds to wait: `Retry-After` (delta seconds or HTTP-date), else `X-RateLimit-Reset`.

    Jira sends X-RateLimit-Reset as an ISO 8601 instant; an epoch number is accepted as well.
    """
    value = (headers.get("retry-after") or "").strip()
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            return _seconds_until(email.utils.parsedate_to_datetime(value), now())
        except (TypeError, ValueError, IndexError):
            pass
    reset = (headers.get("x-ratelimit-reset") or "").strip()
    if reset:
        try:
            number = float(reset)
        except ValueError:
            number = None
        if number is not None:
            # Large numbers are epoch seconds; small ones are a delay.
            return max(0.0, number - now()) if number > 1e9 else max(0.0, number)
        try:
            return _seconds_until(datetime.fromisoformat(reset.replace("Z", "+00:00")), now())
        except ValueError:
            return None
    return None


def classify_response(
    response: httpx2.Response,
    *,
    action: str,
    account: str,
    secrets: Iterable[str] = (),
    non_idempotent: bool = False,
    now: Callable[[], float] = time.time,
) -> ProviderError:
    """The ProviderError for a non-2xx answer.

    `action` reads after "to", e.g. "read project SEC"; `account` names the Jira user.
    """
    secrets = tuple(secrets)
    status = response.status_code
    messages, field_errors = jira_messages(_body(response))
    field_errors = {k: _clip(redact(v, secrets)) for k, v in field_errors.items()}
    detail = _clip(redact("; ".join(messages), secrets))
    suffix = f": {detail}" if detail else ""
    retry_after = parse_retry_after(response.headers, now=now)

    def error(kind: ErrorKind, message: str, *, retry: float | None = None) -> ProviderError:
        return ProviderError(
            kind,
            redact(message, secrets),
            status=status,
            retry_after=retry,
            field_errors=field_errors,
        )

    if 300 <= status < 400:
        location = response.headers.get("location", "").split("?", 1)[0]
        target = f" to {location}" if location else ""
        return error(
            ErrorKind.CONFIG,
            f"Jira answered the request to {action} with a redirect (HTTP {status}){target}; "
            "check that base_url is the site's https address",
        )
    denied = response.headers.get("x-authentication-denied-reason", "")
    if status in (401, 403) and "CAPTCHA_CHALLENGE" in denied.upper():
        return error(
            ErrorKind.CAPTCHA,
            f"Jira locked sign-in for {account} behind a CAPTCHA after failed logins "
            f"(HTTP {status}, X-Authentication-Denied-Reason: CAPTCHA_CHALLENGE); every further "
            "request would prolong the lock, so SentinelIQ stopped calling Jira. Sign in as "
            f"{account} once in a browser at {_login_url(denied)}, then resume the provider "
            "(sentineliq provider resume jira --workspace W, or Resume in the admin panel)",
        )
    if status == 401:
        captcha = "AUTHENTICATION_DENIED" in response.headers.get("x-seraph-loginreason", "")
        hint = (
            "Jira asks for a CAPTCHA after repeated failed logins: sign in once in a browser"
            if captcha
            else "check the email and API token (tokens expire after at most a year)"
        )
        return error(
            ErrorKind.AUTH, f"Jira rejected the credentials for {account} (HTTP 401): {hint}"
        )
    if status == 403:
        return error(
            ErrorKind.PERMISSION,
            f"Jira account {account} is not allowed to {action} (HTTP 403){suffix}; "
            "check its project permissions (Browse projects, Create issues)",
        )
    if status == 404:
        return error(
            ErrorKind.NOT_FOUND,
            f"Jira found nothing to {action} (HTTP 404): it does not exist or {account} "
            f"has no permission to see it{suffix}",
        )
    if status == 410:
        return error(
            ErrorKind.CONFIG,
            f"Jira has removed the endpoint used to {action} (HTTP 410 Gone, endpoint removed); "
            "this version of SentinelIQ needs an update",
        )
    if status == 429:
        reason = response.headers.get("ratelimit-reason", "")
        why = f" ({reason})" if reason else ""
        wait = f"; retry after {retry_after:g} s" if retry_after is not None else ""
        return error(
            ErrorKind.RATE_LIMITED,
            f"Jira rate limit reached{why} while trying to {action} (HTTP 429){wait}",
            retry=retry_after,
        )
    if status >= 500:
        # A gateway error or internal error on a create may come after the issue was committed;
        # 503 is Jira refusing work up front, so it is plainly unavailable.
        if non_idempotent and status != 503:
            return error(
                ErrorKind.AMBIGUOUS,
                f"Jira failed while trying to {action} (HTTP {status}){suffix}; "
                "the request may have taken effect, so look it up before repeating it",
                retry=retry_after,
            )
        return error(
            ErrorKind.UNAVAILABLE,
            f"Jira is unavailable (HTTP {status}) while trying to {action}{suffix}",
            retry=retry_after,
        )
    if status in (408, 409, 423, 425):
        return error(
            ErrorKind.UNAVAILABLE,
            f"Jira could not {action} right now (HTTP {status}){suffix}",
            retry=retry_after,
        )
    verb = "refused" if field_errors or messages else "refused, without saying why,"
    return error(
        ErrorKind.VALIDATION, f"Jira {verb} the request to {action} (HTTP {status}){suffix}"
    )


def classify_transport_error(
    exc: httpx2.TransportError,
    *,
    action: str,
    host: str,
    non_idempotent: bool = False,
    secrets: Iterable[str] = (),
) -> ProviderError:
    reason = _clip(redact(str(exc) or type(exc).__name__, tuple(secrets)))
    if isinstance(exc, _NOT_SENT):
        if isinstance(exc, httpx2.ConnectTimeout):
            what = "timed out connecting to"
        elif isinstance(exc, httpx2.PoolTimeout):
            what = "found no free connection to"
        else:
            what = "could not connect to"
        return ProviderError(
            ErrorKind.NETWORK,
            f"SentinelIQ {what} Jira at {host} to {action} ({reason}); nothing was sent",
        )
    consequence = (
        "the request may have taken effect (an issue may exist), so look it up before repeating it"
        if non_idempotent
        else "it is safe to repeat"
    )
    kind = "timed out waiting for" if isinstance(exc, httpx2.TimeoutException) else "lost"
    return ProviderError(
        ErrorKind.AMBIGUOUS,
        f"The request to {action} reached Jira at {host}, but SentinelIQ {kind} the answer "
        f"({reason}); {consequence}",
    )


def blocked_target(exc: BlockedTargetError, *, action: str) -> ProviderError:
    hint = (
        "no setting allows it"
        if exc.always_refused
        else "set SENTINELIQ_ALLOW_PRIVATE_TARGETS=1 to allow private targets"
    )
    return ProviderError(
        ErrorKind.CONFIG,
        f"SentinelIQ refused to contact {exc.host} to {action}: it is {exc.reason}; {hint}",
    )


def unreadable_answer(
    response: httpx2.Response, *, action: str, non_idempotent: bool = False
) -> ProviderError:
    """A 2xx whose body is not the JSON we need. After a create, the issue probably exists."""
    if non_idempotent:
        return ProviderError(
            ErrorKind.AMBIGUOUS,
            f"Jira accepted the request to {action} (HTTP {response.status_code}) but its answer "
            "could not be read; the issue probably exists, so look it up before repeating it",
            status=response.status_code,
        )
    return ProviderError(
        ErrorKind.UNAVAILABLE,
        f"Jira answered the request to {action} (HTTP {response.status_code}) with an "
        "unreadable body",
        status=response.status_code,
    )
