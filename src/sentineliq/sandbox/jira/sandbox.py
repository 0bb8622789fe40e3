"""JiraSandbox: the public, in-process handle on a running sandbox (see the package docstring)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from sentineliq.sandbox.jira.adf import MAX_TEXT_CHARS
from sentineliq.sandbox.jira.api import JiraApi
from sentineliq.sandbox.jira.browse import BrowsePages
from sentineliq.sandbox.jira.captcha import CaptchaLock
from sentineliq.sandbox.jira.clock import Clock
from sentineliq.sandbox.jira.content import ContentRules
from sentineliq.sandbox.jira.control import ControlApi
from sentineliq.sandbox.jira.dispatch import Dispatcher, Routers
from sentineliq.sandbox.jira.faults import FaultController, FaultMode, parse_fault
from sentineliq.sandbox.jira.hold import RequestHold
from sentineliq.sandbox.jira.links import LinkType
from sentineliq.sandbox.jira.model import ACCOUNT_TYPES, User, account_id_for
from sentineliq.sandbox.jira.ratelimit import RateLimiter
from sentineliq.sandbox.jira.recording import RecordedRequest, RequestLog
from sentineliq.sandbox.jira.server import Listener, ThreadRegistry
from sentineliq.sandbox.jira.state import SandboxState
from sentineliq.sandbox.jira.views import NAVIGABLE, comment_json, issue_fields_json
from sentineliq.sandbox.jira.webhooks import DEFAULT_EVENTS, WebhookDelivery, WebhookSender
from sentineliq.sandbox.jira.wire import Router
from sentineliq.sandbox.jira.workflow import LOCALES, Workflow

log = logging.getLogger("sentineliq.sandbox.jira")

STOP_JOIN_TIMEOUT_S = 5.0
# The sandbox site's cloud id (stable, like a real site's).
CLOUD_ID = "5d3c0ad9-2d3b-4f4e-9d3a-6a1b0c5e7f21"


class JiraSandbox:
    """A stateful stand-in for the Jira Cloud REST v3 API, served over real HTTP.

    `clock` (default `time.monotonic`) drives rate limiting, search lag and request timestamps;
    pass a `ManualClock` to move time by hand in tests. Fault durations use real time.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, clock: Clock | None = None):
        self.host = host
        self.clock: Clock = clock or time.monotonic
        self._port = port
        self._state = SandboxState(self.clock)
        self._faults = FaultController()
        self._limiter = RateLimiter(self.clock)
        self._log = RequestLog()
        self._threads = ThreadRegistry()
        self._lifecycle = threading.RLock()
        self._listener: Listener | None = None
        self._running = False
        self._down_generation = 0
        self._timers: list[threading.Timer] = []
        self._gateway_cloud_id: str | None = None
        self._captcha = CaptchaLock(lambda: self.url)
        self._hold = RequestHold()
        self._webhooks = WebhookSender(self._state, lambda: self.url)
        routers = Routers(
            api=Router(JiraApi(self._state).routes()),
            pages=Router(BrowsePages(self._state).routes()),
            control=Router(ControlApi(self).routes()),
        )
        self._dispatch = Dispatcher(
            state=self._state,
            routers=routers,
            faults=self._faults,
            limiter=self._limiter,
            log=self._log,
            clock=self.clock,
            base_url=lambda: self.url,
            gateway=lambda: self._gateway_cloud_id,
            captcha=self._captcha,
            hold=self._hold,
        )

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(self.host, self.host)  # noqa: S104
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self._port}"

    def start(self) -> JiraSandbox:
        with self._lifecycle:
            if self._running:
                raise RuntimeError("the sandbox is already running")
            self._running = True
            self._webhooks.open()
            self._bring_up()
        return self

    def stop(self) -> None:
        with self._lifecycle:
            if not self._running:
                return
            self._running = False
            self._hold.release()
            self._down_generation += 1
            self._cancel_timers()
            self._webhooks.close()
            if self._listener is not None:
                self._listener.close()
                self._listener = None
        # Outside the lock: a handler thread may be waiting for it (an HTTP "down" request).
        self._threads.join_all(STOP_JOIN_TIMEOUT_S)

    def __enter__(self) -> JiraSandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _bring_up(self) -> None:
        if self._listener is None:
            listener = Listener(self._dispatch, self._threads)
            # Port 0 picks a free port once; recoveries from "down" bind that same port again.
            self._port = listener.open(self.host, self._port)
            self._listener = listener

    def _go_down(self, duration_s: float | None) -> None:
        self._down_generation += 1
        generation = self._down_generation
        self._cancel_timers()
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        if duration_s is not None:
            timer = threading.Timer(duration_s, self._recover, args=(generation,))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()

    def _recover(self, generation: int) -> None:
        with self._lifecycle:
            if generation != self._down_generation or not self._running:
                return
            current = self._faults.current()
            if current is not None and current.mode is FaultMode.DOWN:
                self._faults.clear()
            try:
                self._bring_up()
            except Exception:  # a timer thread has nobody to raise to
                log.exception("the sandbox could not bind port %s again after 'down'", self._port)

    def _cancel_timers(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()

    # -- control ---------------------------------------------------------------------------------

    def set_fault(
        self,
        mode: str,
        *,
        count: int | None = None,
        delay_s: float = 0.0,
        status: int = 503,
        duration_s: float | None = None,
        method: str | None = None,
        path: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Make the sandbox misbehave; see `faults` for the modes. "none" clears any fault."""
        fault = parse_fault(
            mode,
            count=count,
            delay_s=delay_s,
            status=status,
            duration_s=duration_s,
            method=method,
            path=path,
            retry_after=retry_after,
        )
        with self._lifecycle:
            self._faults.set(fault)
            if fault.mode is FaultMode.DOWN:
                if self._running:
                    self._go_down(duration_s)
                return
            self._down_generation += 1
            self._cancel_timers()
            if self._running:
                self._bring_up()

    def set_attachment_max_bytes(self, limit: int) -> None:
        """The largest file an attachment may be (default 10 MiB, Cloud's); larger: 413."""
        if not isinstance(limit, int) or isinstance(limit, bool):
            raise TypeError("max_bytes must be a whole number")
        self._state.set_attachment_max_bytes(limit)

    def attachment_content(self, attachment_id: str) -> bytes:
        """What was uploaded as the attachment (KeyError-like JiraError 404 when unknown)."""
        return self._state.attachment(attachment_id)[1].content

    def hold_requests(self, method: str | None = None, path: str | None = None) -> None:
        """Hold the Jira requests with this method and path prefix before they are handled,
        until `release_requests` (see `hold`): how many a client has in flight at once shows
        in `held_requests`, without timing."""
        self._hold.hold(method, path)

    def release_requests(self) -> None:
        """Let every held request be handled, and stop holding."""
        self._hold.release()

    def held_requests(self) -> tuple[int, int]:
        """(requests held now, the most held at once since `hold_requests`)."""
        return self._hold.held(), self._hold.most_held()

    def wait_until_held(self, count: int, timeout: float = 60.0) -> bool:
        """Block until `count` requests are held at once; False if that did not happen in time."""
        return self._hold.wait_until_held(count, timeout)

    def set_rate_limit(self, requests_per_second: float | None, burst: int | None = None) -> None:
        self._limiter.configure(requests_per_second, burst)

    def set_search_lag(self, seconds: float) -> None:
        self._state.set_search_lag(seconds)

    def set_description_rules(
        self,
        *,
        limit: int | None = None,
        unsupported_nodes: Iterable[str] = (),
    ) -> None:
        """Refuse descriptions longer than `limit` (< 32,767: Jira measuring differently) or
        holding any of `unsupported_nodes` (e.g. "table", "codeBlock") with Jira's generic
        unsupported-content 400. No arguments restores Cloud's plain rules. See `content`."""
        self._state.set_content_rules(
            ContentRules(
                description_limit=MAX_TEXT_CHARS if limit is None else limit,
                unsupported_nodes=frozenset(unsupported_nodes),
            )
        )

    def set_captcha_lock(
        self,
        locked: bool,
        *,
        login_url: str | None = None,
        after_failed_logins: int | None = None,
    ) -> None:
        """Lock Basic auth behind a CAPTCHA now (`locked`), or after N failed logins; False with
        no threshold is the browser sign-in that clears it. See `captcha`."""
        self._captcha.configure(
            locked, login_url=login_url, after_failed_logins=after_failed_logins
        )

    def captcha_refusals(self) -> int:
        """Requests refused by the CAPTCHA lock so far."""
        return self._captcha.refused

    def remove_field_from_screen(
        self, project_key: str, issue_type_name: str, field_id: str
    ) -> None:
        self._state.remove_field_from_screen(project_key, issue_type_name, field_id)

    def require_field(
        self, project_key: str, field_id: str, issue_type_name: str | None = None
    ) -> None:
        """Make `field_id` a required field without a default on the create screen of every
        issue type (or just `issue_type_name`): e.g. TEAM_FIELD, a single select with options
        Blue Team and Red Team; AFFECTED_SYSTEMS_FIELD (multi-select); "components"."""
        self._state.require_field(project_key, issue_type_name, field_id)

    def set_gateway(self, cloud_id: str | None = CLOUD_ID) -> None:
        """Also serve the REST API under /ex/jira/{cloud_id}/rest/... (the scoped-token gateway
        of api.atlassian.com); None turns it off. serverInfo's baseUrl stays the site URL."""
        self._gateway_cloud_id = cloud_id

    @property
    def gateway_url(self) -> str:
        """The gateway base URL to configure (set_gateway must be on)."""
        if self._gateway_cloud_id is None:
            raise RuntimeError("the gateway is off; call set_gateway() first")
        return f"{self.url}/ex/jira/{self._gateway_cloud_id}"

    def add_user(
        self,
        email: str,
        display_name: str,
        *,
        api_token: str | None = None,
        can_browse_users: bool = True,
        can_create: bool = True,
        email_visible: bool = True,
        active: bool = True,
        account_type: str = "atlassian",
    ) -> str:
        """Add a user and return its accountId. Users who may create issues are assignable.

        `account_type` is "atlassian" (a person), "app" or "customer", as Cloud reports it."""
        if account_type not in ACCOUNT_TYPES:
            raise ValueError(f"account_type must be one of {', '.join(ACCOUNT_TYPES)}")
        user = User(
            account_id=account_id_for(email),
            email=email,
            display_name=display_name,
            api_token=api_token,
            can_browse_users=can_browse_users,
            can_create=can_create,
            email_visible=email_visible,
            active=active,
            assignable=can_create,
            account_type=account_type,
        )
        return self._state.add_user(user)

    def set_link_types(self, types: Iterable[LinkType]) -> None:
        """Replace the site's issue link types (e.g. "Relates" renamed by an admin)."""
        self._state.set_link_types(types)

    def remove_link_type(self, name: str) -> None:
        """Delete an issue link type by name, as a Jira admin can (e.g. "Relates")."""
        types = self._state.link_types()
        if not any(t.name.lower() == name.lower() for t in types):
            raise ValueError(f"no issue link type {name!r}")
        self._state.set_link_types(t for t in types if t.name.lower() != name.lower())

    def set_emails_hidden(self, hidden: bool, *, email: str | None = None) -> None:
        """Hide or show email addresses in user answers: one user's, or everybody's (None).

        Most real accounts hide theirs; a hidden address still matches an exact user search."""
        self._state.set_emails_hidden(hidden, email)

    def set_workflow(self, name: str = "simple", *, resolution_screen: bool = True) -> None:
        """ "simple" (default: global transitions 11/21/31 named after their target) or
        "classic" (transitions depend on the status; see `workflow`). Names stay localized.
        Without a `resolution_screen`, a resolution sent with a done transition is refused as
        not on the screen (Jira then sets Done itself), as on team-managed projects."""
        current = self._state.workflow
        self._state.set_workflow(
            Workflow(
                name,
                dict(current.status_names),
                dict(current.transition_names),
                resolution_screen=resolution_screen,
            )
        )

    def localize(
        self,
        locale: str = "en",
        *,
        status_names: dict[str, str] | None = None,
        transition_names: dict[str, str] | None = None,
    ) -> None:
        """Show statuses and transitions in another language ("de": Erledigt, Erneut öffnen,
        ...; "en": English), or under the given names by status / transition id. Ids and status
        categories never change, as on Cloud."""
        if locale not in LOCALES:
            raise ValueError(f"locale must be one of {', '.join(LOCALES)}, not {locale!r}")
        statuses, transitions = LOCALES[locale]
        self._state.set_workflow(
            Workflow(
                self._state.workflow.name,
                {**statuses, **(status_names or {})},
                {**transitions, **(transition_names or {})},
            )
        )

    def notifications(self) -> list[tuple[str, str]]:
        """(issue key, event) of each notification mail Jira would have sent for an edit."""
        return self._state.notifications()

    def reset(self) -> None:
        """Back to the default seed: no issues, no recorded requests, no fault or rate limit."""
        self._state.reset()
        self._limiter.reset()
        self._log.clear()
        self._gateway_cloud_id = None
        self._captcha.reset()
        self._hold.release()
        self._webhooks.remove_all()
        self._webhooks.set_enabled(True)
        self.set_fault("none")

    # -- webhooks (see `webhooks`) -------------------------------------------------------------

    def add_webhook(
        self,
        url: str,
        secret: str | None,
        events: Iterable[str] = DEFAULT_EVENTS,
        *,
        retry_delays: Iterable[float] | None = None,
    ) -> str:
        """Register a webhook as a Jira admin does (System > WebHooks), signed with `secret`;
        returns its id. `retry_delays` (seconds, for every webhook) shortens retries in tests."""
        if retry_delays is not None:
            self._webhooks.retry_delays = tuple(retry_delays)
        return self._webhooks.add(url, secret, events)

    def set_webhooks_enabled(self, enabled: bool) -> None:
        """Off: changes send no webhook (a site that cannot reach its receiver)."""
        self._webhooks.set_enabled(enabled)

    def wait_for_webhooks(self, timeout: float = 10.0) -> None:
        """Block until every queued webhook (retries included) was sent; TimeoutError if not."""
        if not self._webhooks.wait_idle(timeout):
            raise TimeoutError(f"webhooks still queued after {timeout} s")

    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every POST attempt made so far, in order, with the status code answered."""
        return self._webhooks.deliveries()

    def replay_webhook(self, identifier: str, *, new_identifier: bool = False) -> None:
        """Send a delivery again with the same bytes and headers (as a replaying attacker), or
        the same signed body under a new `X-Atlassian-Webhook-Identifier`."""
        self._webhooks.replay(identifier, new_identifier=new_identifier)

    # -- inspection -------------------------------------------------------------------------------

    def issues(self) -> list[dict[str, Any]]:
        """Every created issue, search lag or not, in creation order."""
        base = self.url
        users = self._state.find_user
        out = []
        for snap in self._state.all_issues():
            issue = snap.issue
            out.append(
                {
                    "id": issue.id,
                    "key": issue.key,
                    "fields": issue_fields_json(
                        issue, snap.project, base, users, NAVIGABLE, snap.linked
                    ),
                    "properties": dict(issue.properties),
                    "comments": [comment_json(c, issue, base, users) for c in issue.comments],
                    "created_at": issue.created.isoformat(),
                    "updated_at": issue.updated.isoformat(),
                    "status": issue.status.name,
                }
            )
        return out

    def requests(self) -> list[RecordedRequest]:
        """Jira requests received (not /_sandbox ones), in arrival order."""
        return self._log.entries()

    def violations(self) -> list[RecordedRequest]:
        """Requests that arrived before an announced Retry-After had expired."""
        return [r for r in self._log.entries() if r.early]
