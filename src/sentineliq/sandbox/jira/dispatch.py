"""The request pipeline above HTTP: control requests, then for Jira requests the fault, the rate
limit, routing, authentication, body validation and the handler, with every outcome recorded.
No exception escapes: Jira errors become ErrorCollection answers and bugs a logged JSON 500.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from sentineliq.sandbox.jira.captcha import CaptchaLock
from sentineliq.sandbox.jira.clock import Clock
from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.faults import FaultController, FaultMode
from sentineliq.sandbox.jira.hold import RequestHold
from sentineliq.sandbox.jira.model import User
from sentineliq.sandbox.jira.openapi import validate_body
from sentineliq.sandbox.jira.ratelimit import RateLimiter
from sentineliq.sandbox.jira.recording import RecordedRequest, RequestLog
from sentineliq.sandbox.jira.server import Incoming, Outcome
from sentineliq.sandbox.jira.state import SandboxState
from sentineliq.sandbox.jira.wire import Request, Response, Router

log = logging.getLogger("sentineliq.sandbox.jira")

CONTROL_PREFIX = "/_sandbox/"
API_PREFIX = "/rest/"
# Atlassian's gateway for scoped API tokens serves a site's REST API under this prefix.
GATEWAY_PREFIX = "/ex/jira/"
UNAUTHENTICATED = "Client must be authenticated to access this resource."
_ERROR_TEXT = {
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable: Jira is temporarily unable to process the request.",
    504: "Gateway timeout",
    429: "Rate limit exceeded.",
}


@dataclass(frozen=True)
class Routers:
    api: Router  # /rest/...
    pages: Router  # /, /browse, ... (no auth)
    control: Router  # /_sandbox/...


def _is_basic(header: str | None) -> bool:
    return bool(header) and str(header).split(" ", 1)[0].lower() == "basic"


class Dispatcher:
    def __init__(
        self,
        *,
        state: SandboxState,
        routers: Routers,
        faults: FaultController,
        limiter: RateLimiter,
        log: RequestLog,
        clock: Clock,
        base_url: Callable[[], str],
        gateway: Callable[[], str | None] = lambda: None,
        captcha: CaptchaLock | None = None,
        hold: RequestHold | None = None,
    ) -> None:
        """`gateway`: the cloud id the API is also served under (/ex/jira/{id}/rest/...), or
        None while the gateway is off."""
        self._state = state
        self._routers = routers
        self._faults = faults
        self._limiter = limiter
        self._log = log
        self._clock = clock
        self._base_url = base_url
        self._gateway = gateway
        self._captcha = captcha or CaptchaLock(base_url)
        self._hold = hold or RequestHold()

    def __call__(self, incoming: Incoming) -> Outcome:
        if incoming.path.startswith(CONTROL_PREFIX):
            return Outcome(self._handle(incoming, self._routers.control)[0])
        recorded_path = incoming.path
        incoming = self._through_gateway(incoming)

        arrived = self._clock()
        seq = self._log.next_seq()
        is_api = incoming.path.startswith(API_PREFIX)
        early = is_api and self._limiter.is_early(arrived)
        if is_api:
            self._hold.pass_through(incoming.method, incoming.path)  # a test's hold, if any
        fault = self._faults.take(incoming.method, incoming.path) if is_api else None
        caller: User | None = None

        basic = _is_basic(incoming.headers.get("authorization"))
        locked = self._captcha.refusal(basic) if is_api else None
        if fault is not None and fault.mode is FaultMode.ERROR:
            response = self._fault_response(fault.status, fault.retry_after)
        elif locked is not None:
            response = locked
        elif is_api:
            admission = self._limiter.admit()
            if admission.allowed:
                response, caller = self._handle(incoming, self._routers.api)
                response.headers.update(admission.headers)
                if basic and caller is None and response.status == 401:
                    self._captcha.failed_login()
            else:
                response = Response.json(
                    {"errorMessages": ["Rate limit exceeded."], "errors": {}},
                    429,
                    admission.headers,
                )
        else:
            response, _ = self._handle(incoming, self._routers.pages)

        done = response.status in (200, 201)
        dropped = done and self._faults.take_drop(incoming.method, incoming.path)
        applied = FaultMode.DROP_AFTER_CREATE if dropped else (fault.mode if fault else None)
        self._log.add(
            RecordedRequest(
                seq=seq,
                method=incoming.method,
                path=recorded_path,
                query=incoming.query_string,
                status=None if dropped else response.status,
                at=arrived,
                auth_user=caller.email if caller else None,
                early=early,
                fault=applied.value if applied is not None else None,
                body=incoming.body.decode("utf-8", errors="replace"),
            )
        )
        delay = fault.delay_s if fault is not None and fault.mode is FaultMode.SLOW else 0.0
        return Outcome(None if dropped else response, delay)

    def _through_gateway(self, incoming: Incoming) -> Incoming:
        """/ex/jira/{cloudId}/rest/... -> /rest/... while the gateway is on (other ids: 404)."""
        cloud_id = self._gateway()
        if cloud_id is None or not incoming.path.startswith(GATEWAY_PREFIX):
            return incoming
        prefix = f"{GATEWAY_PREFIX}{cloud_id}"
        rest = incoming.path[len(prefix) :]
        if not incoming.path.startswith(prefix) or not rest.startswith(API_PREFIX):
            return incoming  # routes nowhere: answered 404 like any unknown path
        return replace(incoming, path=rest)

    def _fault_response(self, status: int, retry_after: int | None) -> Response:
        headers: dict[str, str] = {}
        if retry_after is None and status == 503:
            retry_after = 1
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
            self._limiter.announce_retry_after(retry_after)
        message = _ERROR_TEXT.get(status, f"Simulated failure ({status}).")
        return Response.json({"errorMessages": [message], "errors": {}}, status, headers)

    def _handle(self, incoming: Incoming, router: Router) -> tuple[Response, User | None]:
        """The answer, and the authenticated caller (None if anonymous or not authenticated)."""
        user: User | None = None
        try:
            user = self._authenticate(incoming.headers.get("authorization"))
            return self._route(incoming, router, user), user
        except JiraError as err:
            return Response.error(err), user
        except Exception:
            log.exception("sandbox bug while handling %s %s", incoming.method, incoming.path)
            body = {"errorMessages": ["Internal server error (a bug in the Jira sandbox)."]}
            return Response.json({**body, "errors": {}}, 500), user

    def _route(self, incoming: Incoming, router: Router, user: User | None) -> Response:
        found = router.match(incoming.method, incoming.path)
        if found is None:
            raise JiraError(404, [f"No resource matches {incoming.method} {incoming.path}."])
        route, params = found
        request = Request(
            method=incoming.method,
            path=incoming.path,
            query=incoming.query,
            headers=incoming.headers,
            body=incoming.body,
            base_url=self._base_url(),
            params=params,
            user=user,
        )
        if route.auth and user is None:
            raise JiraError(
                401,
                [UNAUTHENTICATED],
                headers={
                    "WWW-Authenticate": 'Basic realm="SentinelIQ Jira sandbox"',
                    "X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
                },
            )
        if route.validate_body:
            self._check_body(request, route.template)
        with self._state.acting_as(user):  # who changed an issue, for its webhooks
            return route.handler(request)

    def _authenticate(self, header: str | None) -> User | None:
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        email, sep, token = decoded.partition(":")
        return self._state.authenticate(email, token) if sep else None

    @staticmethod
    def _check_body(request: Request, template: str) -> None:
        content_type = request.headers.get("content-type", "")
        if content_type.split(";")[0].strip().lower() != "application/json":
            raise JiraError(415, ["Unsupported Media Type: send the body as application/json."])
        request.json()  # a clear 400 for malformed JSON before the schema check
        validate_body(request.method, request.path, template, request.params, request.body)
