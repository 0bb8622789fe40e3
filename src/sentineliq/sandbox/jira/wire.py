"""Framework-free request/response objects and a tiny router keyed by OpenAPI path templates."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from sentineliq.sandbox.jira.errors import JiraError
from sentineliq.sandbox.jira.model import User

JSON_TYPE = "application/json;charset=UTF-8"
HTML_TYPE = "text/html;charset=UTF-8"
_UNSET = object()


@dataclass
class Request:
    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    base_url: str
    params: dict[str, str] = field(default_factory=dict)
    user: User | None = None
    _json: Any = field(default=_UNSET, repr=False)

    @property
    def caller(self) -> User:
        """The authenticated user; only called by handlers of routes that require auth."""
        if self.user is None:  # pragma: no cover - the server authenticates before dispatch
            raise JiraError(401, ["Client must be authenticated to access this resource."])
        return self.user

    def json(self) -> Any:
        if self._json is _UNSET:
            try:
                self._json = json.loads(self.body.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise JiraError(400, [f"Invalid JSON in the request body: {exc}"]) from None
        return self._json

    def json_object(self) -> dict[str, Any]:
        data = self.json()
        if not isinstance(data, dict):
            raise JiraError(400, ["The request body must be a JSON object."])
        return data

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def list_arg(self, name: str) -> list[str]:
        """A repeated or comma-separated query parameter (Jira accepts both)."""
        out: list[str] = []
        for value in self.query.get(name, []):
            out.extend(v.strip() for v in value.split(",") if v.strip())
        return out

    def int_arg(self, name: str, default: int, *, maximum: int | None = None) -> int:
        raw = self.arg(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise JiraError(400, [f"The '{name}' parameter must be an integer."]) from None
        if value < 0:
            raise JiraError(400, [f"The '{name}' parameter must not be negative."])
        if maximum is not None and value > maximum:
            raise JiraError(400, [f"Parameter '{name}' must not exceed the limit '{maximum}'"])
        return value


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    # Run by the server after the response was written (e.g. going "down" on request).
    after: Callable[[], None] | None = field(default=None, compare=False)

    @classmethod
    def json(
        cls, payload: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        return cls(status, body, JSON_TYPE, dict(headers or {}))

    @classmethod
    def html(cls, text: str, status: int = 200) -> Response:
        # The pages render user-supplied text; forbid scripts outright as a second line of defence.
        headers = {
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "X-Content-Type-Options": "nosniff",
        }
        return cls(status, text.encode("utf-8"), HTML_TYPE, headers)

    @classmethod
    def empty(cls, status: int = 204) -> Response:
        return cls(status, b"", None)

    @classmethod
    def error(cls, err: JiraError) -> Response:
        return cls.json(err.body(), err.status, err.headers)


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    template: str  # the OpenAPI path template, e.g. /rest/api/3/issue/{issueIdOrKey}
    handler: Handler
    auth: bool = True
    validate_body: bool = False  # validate the JSON body against the OpenAPI operation
    regex: re.Pattern[str] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.template))
        object.__setattr__(self, "regex", re.compile(pattern + "/?"))


class Router:
    def __init__(self, routes: Sequence[Route]) -> None:
        self._routes = list(routes)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for this request, None if no path matches, or JiraError(405)."""
        allowed: list[str] = []
        for route in self._routes:
            found = route.regex.fullmatch(path)
            if found is None:
                continue
            if route.method == method:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
            allowed.append(route.method)
        if allowed:
            raise JiraError(
                405,
                [f"Method {method} is not allowed for {path}."],
                headers={"Allow": ", ".join(sorted(set(allowed)))},
            )
        return None
