"""The sandbox's own control API under /_sandbox/, for other processes (e.g. the CLI sandbox that
worker processes talk to). No authentication; each endpoint mirrors a JiraSandbox method."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from typing import Any, Protocol

from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.faults import parse_fault
from sentineliq.sandbox.jira.recording import RecordedRequest
from sentineliq.sandbox.jira.webhooks import EVENTS, WebhookDelivery
from sentineliq.sandbox.jira.wire import Request, Response, Route

PREFIX = "/_sandbox"


class Controls(Protocol):
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
    ) -> None: ...

    def set_rate_limit(
        self, requests_per_second: float | None, burst: int | None = None
    ) -> None: ...

    def set_search_lag(self, seconds: float) -> None: ...

    def set_attachment_max_bytes(self, limit: int) -> None: ...

    def hold_requests(self, method: str | None = None, path: str | None = None) -> None: ...

    def release_requests(self) -> None: ...

    def held_requests(self) -> tuple[int, int]: ...

    def set_description_rules(
        self, *, limit: int | None = None, unsupported_nodes: Iterable[str] = ()
    ) -> None: ...

    def set_captcha_lock(
        self,
        locked: bool,
        *,
        login_url: str | None = None,
        after_failed_logins: int | None = None,
    ) -> None: ...

    def remove_field_from_screen(
        self, project_key: str, issue_type_name: str, field_id: str
    ) -> None: ...

    def require_field(
        self, project_key: str, field_id: str, issue_type_name: str | None = None
    ) -> None: ...

    def set_gateway(self, cloud_id: str | None = ...) -> None: ...

    def set_workflow(self, name: str = "simple") -> None: ...

    def localize(
        self,
        locale: str = "en",
        *,
        status_names: dict[str, str] | None = None,
        transition_names: dict[str, str] | None = None,
    ) -> None: ...

    def issues(self) -> list[dict[str, Any]]: ...

    def requests(self) -> list[RecordedRequest]: ...

    def reset(self) -> None: ...

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
    ) -> str: ...

    def set_emails_hidden(self, hidden: bool, *, email: str | None = None) -> None: ...

    def add_webhook(
        self,
        url: str,
        secret: str | None,
        events: Iterable[str] = ...,
        *,
        retry_delays: Iterable[float] | None = None,
    ) -> str: ...

    def set_webhooks_enabled(self, enabled: bool) -> None: ...

    def wait_for_webhooks(self, timeout: float = 10.0) -> None: ...

    def webhook_deliveries(self) -> Sequence[WebhookDelivery]: ...

    def replay_webhook(self, identifier: str) -> None: ...


_OK = {"ok": True}


def _args(
    req: Request, allowed: AbstractSet[str], required: AbstractSet[str] = frozenset()
) -> dict[str, Any]:
    body = req.json_object() if req.body.strip() else {}
    unknown = set(body) - allowed
    if unknown:
        raise JiraError(400, [f"Unknown argument(s): {', '.join(sorted(unknown))}."])
    missing = required - set(body)
    if missing:
        raise JiraError(400, [f"Missing argument(s): {', '.join(sorted(missing))}."])
    return body


class ControlApi:
    def __init__(self, controls: Controls) -> None:
        self._c = controls

    def routes(self) -> list[Route]:
        return [
            Route("POST", f"{PREFIX}/fault", self.fault, auth=False),
            Route("POST", f"{PREFIX}/rate-limit", self.rate_limit, auth=False),
            Route("POST", f"{PREFIX}/search-lag", self.search_lag, auth=False),
            Route("POST", f"{PREFIX}/attachment-limit", self.attachment_limit, auth=False),
            Route("POST", f"{PREFIX}/hold", self.hold, auth=False),
            Route("POST", f"{PREFIX}/release", self.release, auth=False),
            Route("GET", f"{PREFIX}/held", self.held, auth=False),
            Route("POST", f"{PREFIX}/captcha", self.captcha, auth=False),
            Route("POST", f"{PREFIX}/description-rules", self.description_rules, auth=False),
            Route("POST", f"{PREFIX}/screen/remove", self.screen_remove, auth=False),
            Route("POST", f"{PREFIX}/screen/require", self.screen_require, auth=False),
            Route("POST", f"{PREFIX}/gateway", self.gateway, auth=False),
            Route("POST", f"{PREFIX}/workflow", self.workflow, auth=False),
            Route("POST", f"{PREFIX}/localize", self.localize, auth=False),
            Route("POST", f"{PREFIX}/users", self.add_user, auth=False),
            Route("POST", f"{PREFIX}/emails-hidden", self.emails_hidden, auth=False),
            Route("POST", f"{PREFIX}/webhooks", self.add_webhook, auth=False),
            Route("POST", f"{PREFIX}/webhooks/enabled", self.webhooks_enabled, auth=False),
            Route("POST", f"{PREFIX}/webhooks/wait", self.wait_webhooks, auth=False),
            Route("POST", f"{PREFIX}/webhooks/replay", self.replay_webhook, auth=False),
            Route("GET", f"{PREFIX}/webhooks/deliveries", self.webhook_deliveries, auth=False),
            Route("GET", f"{PREFIX}/issues", self.issues, auth=False),
            Route("GET", f"{PREFIX}/requests", self.requests, auth=False),
            Route("POST", f"{PREFIX}/reset", self.reset, auth=False),
        ]

    @staticmethod
    def _apply(action: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return action(*args, **kwargs)
        except (ValueError, TypeError) as exc:
            raise JiraError(400, [str(exc)]) from None

    def fault(self, req: Request) -> Response:
        args = _args(
            req,
            {"mode", "count", "delay_s", "status", "duration_s", "method", "path", "retry_after"},
            {"mode"},
        )
        mode = args.pop("mode")
        if mode == "down":
            # While down this port is unreachable, so only a timed outage can end by itself.
            if args.get("duration_s") is None:
                raise JiraError(400, ["Over HTTP, mode 'down' needs duration_s."])
            self._apply(parse_fault, mode, **args)  # refuse bad arguments while still up
            response = Response.json(_OK, headers={"Connection": "close"})
            response.after = lambda: self._c.set_fault("down", **args)
            return response
        self._apply(self._c.set_fault, mode, **args)
        return Response.json(_OK)

    def rate_limit(self, req: Request) -> Response:
        args = _args(req, {"requests_per_second", "burst"}, {"requests_per_second"})
        self._apply(self._c.set_rate_limit, args["requests_per_second"], args.get("burst"))
        return Response.json(_OK)

    def search_lag(self, req: Request) -> Response:
        args = _args(req, {"seconds"}, {"seconds"})
        self._apply(self._c.set_search_lag, args["seconds"])
        return Response.json(_OK)

    def attachment_limit(self, req: Request) -> Response:
        args = _args(req, {"max_bytes"}, {"max_bytes"})
        self._apply(self._c.set_attachment_max_bytes, args["max_bytes"])
        return Response.json(_OK)

    def hold(self, req: Request) -> Response:
        args = _args(req, {"method", "path"})
        method, path = args.get("method"), args.get("path")
        if not all(value is None or isinstance(value, str) for value in (method, path)):
            raise JiraError(400, ["'method' and 'path' must be strings."])
        self._c.hold_requests(method, path)
        return Response.json(_OK)

    def release(self, req: Request) -> Response:
        self._c.release_requests()
        return Response.json(_OK)

    def held(self, req: Request) -> Response:
        now, most = self._c.held_requests()
        return Response.json({"held": now, "most_held": most})

    def description_rules(self, req: Request) -> Response:
        args = _args(req, {"limit", "unsupported_nodes"})
        nodes = args.get("unsupported_nodes") or []
        if not isinstance(nodes, list) or not all(isinstance(n, str) for n in nodes):
            raise JiraError(400, ["'unsupported_nodes' must be a list of node type names."])
        limit = args.get("limit")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
            raise JiraError(400, ["'limit' must be a whole number of characters."])
        self._apply(self._c.set_description_rules, limit=limit, unsupported_nodes=nodes)
        return Response.json(_OK)

    def captcha(self, req: Request) -> Response:
        args = _args(req, {"locked", "login_url", "after_failed_logins"}, {"locked"})
        if not isinstance(args["locked"], bool):
            raise JiraError(400, ["'locked' must be true or false."])
        self._apply(
            self._c.set_captcha_lock,
            args["locked"],
            login_url=args.get("login_url"),
            after_failed_logins=args.get("after_failed_logins"),
        )
        return Response.json(_OK)

    def screen_remove(self, req: Request) -> Response:
        args = _args(req, {"project", "issue_type", "field"}, {"project", "issue_type", "field"})
        self._apply(
            self._c.remove_field_from_screen, args["project"], args["issue_type"], args["field"]
        )
        return Response.json(_OK)

    def screen_require(self, req: Request) -> Response:
        args = _args(req, {"project", "issue_type", "field"}, {"project", "field"})
        self._apply(self._c.require_field, args["project"], args["field"], args.get("issue_type"))
        return Response.json(_OK)

    def gateway(self, req: Request) -> Response:
        args = _args(req, {"enabled", "cloud_id"}, {"enabled"})
        if not args["enabled"]:
            self._c.set_gateway(None)
        elif args.get("cloud_id"):
            self._apply(self._c.set_gateway, str(args["cloud_id"]))
        else:
            self._c.set_gateway()
        return Response.json(_OK)

    def workflow(self, req: Request) -> Response:
        args = _args(req, {"name"}, {"name"})
        self._apply(self._c.set_workflow, args["name"])
        return Response.json(_OK)

    def localize(self, req: Request) -> Response:
        args = _args(req, {"locale", "status_names", "transition_names"})
        for key in ("status_names", "transition_names"):
            names = args.get(key)
            if names is not None and not (
                isinstance(names, dict) and all(isinstance(v, str) for v in names.values())
            ):
                raise JiraError(400, [f"'{key}' must map ids to names."])
        self._apply(
            self._c.localize,
            args.get("locale", "en"),
            status_names=args.get("status_names"),
            transition_names=args.get("transition_names"),
        )
        return Response.json(_OK)

    def add_user(self, req: Request) -> Response:
        flags = {
            "api_token",
            "can_browse_users",
            "can_create",
            "email_visible",
            "active",
            "account_type",
        }
        args = _args(req, {"email", "display_name", *flags}, {"email", "display_name"})
        email, name = args.pop("email"), args.pop("display_name")
        account_id = self._apply(self._c.add_user, email, name, **args)
        return Response.json({"accountId": account_id}, 201)

    def emails_hidden(self, req: Request) -> Response:
        args = _args(req, {"hidden", "email"}, {"hidden"})
        if not isinstance(args["hidden"], bool):
            raise JiraError(400, ["'hidden' must be true or false."])
        self._apply(self._c.set_emails_hidden, args["hidden"], email=args.get("email"))
        return Response.json(_OK)

    def add_webhook(self, req: Request) -> Response:
        args = _args(req, {"url", "secret", "events", "retry_delays"}, {"url"})
        events = args.get("events") or list(EVENTS)
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            raise JiraError(400, ["'events' must be a list of event names."])
        secret = args.get("secret")
        if secret is not None and not isinstance(secret, str):
            raise JiraError(400, ["'secret' must be a string."])
        delays = args.get("retry_delays")
        if delays is not None and (
            not isinstance(delays, list)
            or not all(isinstance(d, int | float) and d >= 0 for d in delays)
        ):
            raise JiraError(400, ["'retry_delays' must be a list of seconds."])
        webhook_id = self._apply(
            self._c.add_webhook, str(args["url"]), secret, events, retry_delays=delays
        )
        return Response.json({"id": webhook_id}, 201)

    def webhooks_enabled(self, req: Request) -> Response:
        args = _args(req, {"enabled"}, {"enabled"})
        if not isinstance(args["enabled"], bool):
            raise JiraError(400, ["'enabled' must be true or false."])
        self._c.set_webhooks_enabled(args["enabled"])
        return Response.json(_OK)

    def wait_webhooks(self, req: Request) -> Response:
        args = _args(req, {"timeout"})
        timeout = args.get("timeout", 10.0)
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout < 0:
            raise JiraError(400, ["'timeout' must be a number of seconds."])
        try:
            self._c.wait_for_webhooks(min(float(timeout), 60.0))
        except TimeoutError as exc:
            raise JiraError(504, [str(exc)]) from None
        return Response.json(_OK)

    def replay_webhook(self, req: Request) -> Response:
        args = _args(req, {"identifier"}, {"identifier"})
        self._apply(self._c.replay_webhook, str(args["identifier"]))
        return Response.json(_OK)

    def webhook_deliveries(self, req: Request) -> Response:
        return Response.json([d.to_json() for d in self._c.webhook_deliveries()])

    def issues(self, req: Request) -> Response:
        return Response.json(self._c.issues())

    def requests(self, req: Request) -> Response:
        return Response.json([r.to_json() for r in self._c.requests()])

    def reset(self, req: Request) -> Response:
        self._c.reset()
        return Response.json(_OK)
