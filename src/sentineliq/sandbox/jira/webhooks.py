"""Webhooks the sandbox sends, as Jira Cloud sends admin-registered ones (System > WebHooks).

After each change of an issue (listened for in `state`), every registered webhook whose events
match gets a POST with Jira's payload (`webhookEvent`, `timestamp` in epoch ms, `user`, `issue`,
`changelog` or `comment`) and the headers Cloud sends for a webhook saved with a secret:

- `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the secret>`
- `X-Atlassian-Webhook-Identifier`: unique per delivery, the same on its retries
- `X-Atlassian-Webhook-Retry: <n>` on the n-th retry; `X-Atlassian-Webhook-Flow: Primary`

Sending happens on a background thread after the change, never inside the request that made
it; a 5xx answer, a timeout or a refused connection is retried after each of `retry_delays`.
`wait_idle()` blocks until nothing is queued or in flight (tests wait on it, never sleep).

Comment bodies are sent as ADF, as the REST API returns them.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import itertools
import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sentineliq.sandbox.jira.model import Issue, Project, User
from sentineliq.sandbox.jira.state import IssueChange, SandboxState
from sentineliq.sandbox.jira.views import (
    NAVIGABLE,
    comment_json,
    issue_json,
    user_json,
)

log = logging.getLogger("sentineliq.sandbox.jira")

ISSUE_CREATED = "jira:issue_created"
ISSUE_UPDATED = "jira:issue_updated"
COMMENT_CREATED = "comment_created"
EVENTS = (ISSUE_CREATED, ISSUE_UPDATED, COMMENT_CREATED)
DEFAULT_EVENTS = EVENTS
DEFAULT_RETRY_DELAYS = (0.5, 2.0, 5.0)
SEND_TIMEOUT_S = 5.0
# Fields a changelog reports (the ones the sandbox can change), with how a value reads.
_CHANGELOG_FIELDS = ("summary", "priority", "assignee", "labels", "duedate", "description")
# What a comment event carries of its issue on Cloud: a trimmed set of fields.
_COMMENT_ISSUE_FIELDS = ("summary", "issuetype", "project", "assignee", "priority", "status")


@dataclass(frozen=True)
class Webhook:
    id: str
    url: str
    secret: str | None = field(repr=False)
    events: frozenset[str]


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST attempt the sandbox made."""

    identifier: str
    webhook_id: str
    event: str
    url: str
    retry: int  # 0 for the first attempt
    status: int | None  # None when no answer came (timeout, refused)
    error: str | None
    replay: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "identifier": self.identifier,
            "webhook_id": self.webhook_id,
            "event": self.event,
            "url": self.url,
            "retry": self.retry,
            "status": self.status,
            "error": self.error,
            "replay": self.replay,
        }


@dataclass(frozen=True)
class _Message:
    identifier: str
    webhook: Webhook
    event: str
    body: bytes
    replay: bool = False


def signature(secret: str, body: bytes) -> str:
    """The X-Hub-Signature value Jira sends: sha256=<hex>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookSender:
    """Registered webhooks, the delivery queue and its sending thread."""

    def __init__(
        self,
        state: SandboxState,
        base_url: Callable[[], str],
        *,
        retry_delays: Iterable[float] = DEFAULT_RETRY_DELAYS,
    ) -> None:
        self._state = state
        self._base_url = base_url
        self.retry_delays = tuple(retry_delays)
        self._cond = threading.Condition()
        self._hooks: dict[str, Webhook] = {}
        self._queue: list[tuple[float, int, int, _Message]] = []  # (due, seq, retry, message)
        self._seq = itertools.count()
        self._busy = 0  # messages taken off the queue and not finished
        self._sent: list[WebhookDelivery] = []
        self._messages: dict[str, _Message] = {}
        self._enabled = True
        self._thread: threading.Thread | None = None
        self._closed = False
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        state.listen(self._on_change)

    # -- registration ---------------------------------------------------------------------------

    def add(self, url: str, secret: str | None, events: Iterable[str] = DEFAULT_EVENTS) -> str:
        wanted = frozenset(events)
        unknown = wanted - set(EVENTS)
        if unknown or not wanted:
            raise ValueError(f"events must be some of {', '.join(EVENTS)}")
        if not url.startswith(("http://", "https://")):
            raise ValueError("a webhook URL must be http(s)")
        hook = Webhook(str(uuid.uuid4()), url, secret or None, wanted)
        with self._cond:
            self._hooks[hook.id] = hook
        return hook.id

    def remove_all(self) -> None:
        with self._cond:
            self._hooks.clear()
            self._queue.clear()
            self._sent.clear()
            self._messages.clear()
            self._cond.notify_all()

    def set_enabled(self, enabled: bool) -> None:
        """Off: changes send nothing (a site that cannot reach us); nothing is queued for later."""
        with self._cond:
            self._enabled = enabled

    # -- inspection and control ----------------------------------------------------------------

    def deliveries(self) -> list[WebhookDelivery]:
        with self._cond:
            return list(self._sent)

    def wait_idle(self, timeout: float) -> bool:
        """True once nothing is queued or being sent; False if `timeout` passed first."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def replay(self, identifier: str, *, new_identifier: bool = False) -> None:
        """Send a delivered message again: the same bytes and headers (a replayed request), or
        the same signed body under a fresh identifier (the identifier header is not signed)."""
        with self._cond:
            message = self._messages.get(identifier)
            if message is None:
                raise ValueError(f"no webhook delivery {identifier!r}")
            replayed = _Message(
                str(uuid.uuid4()) if new_identifier else message.identifier,
                message.webhook,
                message.event,
                message.body,
                True,
            )
            self._push(time.monotonic(), 0, replayed)

    def open(self) -> None:
        with self._cond:
            self._closed = False

    def close(self) -> None:
        """Stop sending; what is still queued is dropped (the site went away)."""
        with self._cond:
            self._closed = True
            self._queue.clear()
            thread, self._thread = self._thread, None
            self._cond.notify_all()
        if thread is not None:
            thread.join(SEND_TIMEOUT_S + 1)

    # -- building -------------------------------------------------------------------------------

    def _on_change(self, change: IssueChange) -> None:
        with self._cond:
            if not self._enabled or not self._hooks or self._closed:
                return
            hooks = list(self._hooks.values())
        for event, payload in self._payloads(change):
            body = json.dumps(payload, separators=(",", ":")).encode()
            for hook in hooks:
                if event in hook.events:
                    message = _Message(str(uuid.uuid4()), hook, event, body)
                    with self._cond:
                        self._messages[message.identifier] = message
                        self._push(time.monotonic(), 0, message)

    def _payloads(self, change: IssueChange) -> list[tuple[str, dict[str, Any]]]:
        base = self._base_url()
        users = self._state.find_user
        snap = change.after
        issue = issue_json(snap.issue, snap.project, base, users, NAVIGABLE)
        common: dict[str, Any] = {"timestamp": int(time.time() * 1000)}
        if change.actor is not None:
            common["user"] = user_json(change.actor, base)
        if change.event == "created":
            return [
                (
                    ISSUE_CREATED,
                    {
                        **common,
                        "webhookEvent": ISSUE_CREATED,
                        "issue_event_type_name": "issue_created",
                        "issue": issue,
                    },
                )
            ]
        if change.event == "commented" and change.comment is not None:
            comment = comment_json(change.comment, snap.issue, base, users)
            trimmed = issue_json(snap.issue, snap.project, base, users, _COMMENT_ISSUE_FIELDS)
            trimmed.pop("expand", None)
            return [
                (
                    COMMENT_CREATED,
                    {
                        **common,
                        "webhookEvent": COMMENT_CREATED,
                        "comment": comment,
                        "issue": trimmed,
                    },
                ),
                (
                    ISSUE_UPDATED,
                    {
                        **common,
                        "webhookEvent": ISSUE_UPDATED,
                        "issue_event_type_name": "issue_commented",
                        "issue": issue,
                        "comment": comment,
                    },
                ),
            ]
        items = _changelog(change.before, snap.issue, snap.project, users)
        if not items:
            return []
        status_moved = any(i["field"] == "status" for i in items)
        return [
            (
                ISSUE_UPDATED,
                {
                    **common,
                    "webhookEvent": ISSUE_UPDATED,
                    "issue_event_type_name": "issue_generic" if status_moved else "issue_updated",
                    "issue": issue,
                    "changelog": {"id": str(next(self._seq) + 10000), "items": items},
                },
            )
        ]

    # -- sending --------------------------------------------------------------------------------

    def _push(self, due: float, retry: int, message: _Message) -> None:
        heapq.heappush(self._queue, (due, next(self._seq), retry, message))
        if self._thread is None and not self._closed:
            self._thread = threading.Thread(
                target=self._run, name="jira-sandbox-webhooks", daemon=True
            )
            self._thread.start()
        self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                while not self._closed:
                    if self._queue and self._queue[0][0] <= time.monotonic():
                        break
                    wait = self._queue[0][0] - time.monotonic() if self._queue else None
                    self._cond.wait(wait)
                if self._closed:
                    return
                _due, _seq, retry, message = heapq.heappop(self._queue)
                self._busy += 1
            try:
                self._send(message, retry)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _send(self, message: _Message, retry: int) -> None:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Atlassian Webhook HTTP Client",
            "X-Atlassian-Webhook-Identifier": message.identifier,
            "X-Atlassian-Webhook-Flow": "Primary",
        }
        if message.webhook.secret is not None:
            headers["X-Hub-Signature"] = signature(message.webhook.secret, message.body)
        if retry:
            headers["X-Atlassian-Webhook-Retry"] = str(retry)
        request = urllib.request.Request(  # noqa: S310 (add() allows http(s) only)
            message.webhook.url, data=message.body, headers=headers, method="POST"
        )
        status: int | None = None
        error: str | None = None
        try:
            with self._opener.open(request, timeout=SEND_TIMEOUT_S) as answer:
                status = answer.status
                answer.read()
        except urllib.error.HTTPError as refused:
            status = refused.code
            refused.read()
            refused.close()
        except (OSError, TimeoutError) as failed:
            error = type(failed).__name__
        with self._cond:
            self._sent.append(
                WebhookDelivery(
                    message.identifier,
                    message.webhook.id,
                    message.event,
                    message.webhook.url,
                    retry,
                    status,
                    error,
                    message.replay,
                )
            )
            again = status is None or status >= 500
            if again and retry < len(self.retry_delays) and not self._closed:
                self._push(time.monotonic() + self.retry_delays[retry], retry + 1, message)


def _user_name(account_id: Any, users: Callable[[str], User | None]) -> str | None:
    user = users(account_id) if isinstance(account_id, str) else None
    return user.display_name if user is not None else None


def _changelog(
    before: Issue | None, after: Issue, project: Project, users: Callable[[str], User | None]
) -> list[dict[str, Any]]:
    """Jira's changelog items for what differs between two versions of an issue."""
    if before is None:
        return []
    items: list[dict[str, Any]] = []

    def item(name: str, old: Any, new: Any, old_text: Any, new_text: Any) -> None:
        items.append(
            {
                "field": name,
                "fieldtype": "jira",
                "fieldId": name,
                "from": None if old is None else str(old),
                "fromString": None if old_text is None else str(old_text),
                "to": None if new is None else str(new),
                "toString": None if new_text is None else str(new_text),
            }
        )

    if before.resolution != after.resolution:
        item(
            "resolution",
            "10000" if before.resolution else None,
            "10000" if after.resolution else None,
            before.resolution,
            after.resolution,
        )
    if before.status.id != after.status.id:
        item("status", before.status.id, after.status.id, before.status.name, after.status.name)
    for name in _CHANGELOG_FIELDS:
        old, new = before.values.get(name), after.values.get(name)
        if old == new:
            continue
        if name == "assignee":
            item(name, old, new, _user_name(old, users), _user_name(new, users))
        elif name == "labels":
            item(name, None, None, " ".join(old or []) or None, " ".join(new or []) or None)
        elif name == "priority":
            names = {p.id: p.name for p in project.priorities}
            item(name, old, new, names.get(str(old)), names.get(str(new)))
        elif name == "description":
            item(name, None, None, None, None)
        else:
            item(name, old, new, old, new)
    return items
