"""JiraError: a failure the sandbox answers with Jira's ErrorCollection body."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class JiraError(Exception):
    """Raised by handlers; the server turns it into `{"errorMessages": [...], "errors": {...}}`."""

    def __init__(
        self,
        status: int,
        messages: Sequence[str] = (),
        errors: Mapping[str, str] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.messages = list(messages)
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})
        super().__init__(f"{status}: {self.messages} {self.errors}")

    def body(self) -> dict[str, Any]:
        return {"errorMessages": self.messages, "errors": self.errors}


def bad_request(message: str) -> JiraError:
    return JiraError(400, [message])


def field_errors(errors: Mapping[str, str]) -> JiraError:
    return JiraError(400, [], errors)
