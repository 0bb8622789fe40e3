"""Sending alerts from Python: `Client(url, api_key).send(alert | [alerts])`.

Built on the service's own alert model (sentineliq.alerts.Alert): what type-checks here is what
the API accepts. Retry-safe: a batch whose answer was lost (a dropped connection, a 502/503/504
from a proxy, a 429) is sent again as it was, byte for byte, with each alert's source id
(`external_id`) as the caller set it, so whatever the lost attempt stored comes back as
`duplicate`, never as a second alert or ticket. Nothing is generated per attempt.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal

import httpx2

from sentineliq.alerts.model import Alert
from sentineliq.errors import SentinelIQError

Status = Literal["accepted", "occurrence", "duplicate", "refused"]
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_BATCH = 1000  # the service's default cap per request (SENTINELIQ_MAX_INGEST_RECORDS)


@dataclass(frozen=True)
class FieldMessage:
    field: str
    message: str


@dataclass(frozen=True)
class SentAlert:
    """The service's answer for one alert: `index` is its position in what send() was given."""

    index: int
    status: Status
    alert_id: str | None
    occurrence: int | None = None
    errors: tuple[FieldMessage, ...] = ()
    warnings: tuple[FieldMessage, ...] = ()


@dataclass(frozen=True)
class SendReport:
    alerts: tuple[SentAlert, ...]
    warnings: tuple[str, ...] = ()  # about requests as a whole (no provider enabled, ...)
    attempts: int = 1  # requests made, retries included

    def count(self, status: Status) -> int:
        return sum(1 for alert in self.alerts if alert.status == status)

    @property
    def accepted(self) -> int:
        return self.count("accepted")

    @property
    def duplicates(self) -> int:
        return self.count("duplicate")

    @property
    def refused(self) -> int:
        return self.count("refused")


class SendError(SentinelIQError):
    """The service refused a request as a whole (401, 403, 404, 413, ...) or could not be
    reached after every retry; `errors` names the fields when it said which."""

    def __init__(
        self, status: int | None, detail: str, errors: Sequence[FieldMessage] = ()
    ) -> None:
        super().__init__(f"{status}: {detail}" if status is not None else detail)
        self.status = status
        self.detail = detail
        self.errors = tuple(errors)


def _messages(items: Iterable[dict[str, Any]] | None) -> tuple[FieldMessage, ...]:
    return tuple(
        FieldMessage(str(i.get("field", "")), str(i.get("message", ""))) for i in items or ()
    )


class Client:
    """`url`: the workspace's API address, `https://siq.example.org/api/v1/workspaces/<id>`
    (or the server's, with `workspace=`). `api_key`: the workspace's key (`siq_...`)."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        workspace: str | None = None,
        batch_size: int = 500,
        retries: int = 4,
        backoff_s: float = 0.5,
        timeout_s: float = 30.0,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        base = url.rstrip("/")
        if workspace is not None:
            base = f"{base}/api/v1/workspaces/{workspace}"
        if "/api/v1/workspaces/" not in base:
            raise ValueError("url: give the workspace's API address (.../api/v1/workspaces/<id>)")
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size: between 1 and {MAX_BATCH}")
        self._alerts_url = f"{base}/alerts"
        self._batch_size = batch_size
        self._retries = retries
        self._backoff_s = backoff_s
        self._http = httpx2.Client(
            timeout=timeout_s,
            transport=transport,
            headers={"Authorization": f"Bearer {api_key}", "User-Agent": "sentineliq-client"},
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(self, alerts: Alert | Sequence[Alert]) -> SendReport:
        """Send the alerts (in batches of `batch_size`); one answer per alert, in order."""
        batch = [alerts] if isinstance(alerts, Alert) else list(alerts)
        answers: list[SentAlert] = []
        warnings: list[str] = []
        attempts = 0
        for start in range(0, len(batch), self._batch_size):
            chunk = batch[start : start + self._batch_size]
            body = json.dumps(
                [alert.model_dump(mode="json", exclude_defaults=True) for alert in chunk]
            ).encode()
            answer, tries = self._post(body)
            attempts += tries
            warnings += [str(w) for w in answer.get("warnings", ())]
            answers += [
                SentAlert(
                    index=start + int(r["record"]) - 1,
                    status=r["status"],
                    alert_id=r.get("alert_id"),
                    occurrence=r.get("occurrence"),
                    errors=_messages(r.get("errors")),
                    warnings=_messages(r.get("warnings")),
                )
                for r in answer["results"]
            ]
        return SendReport(tuple(answers), tuple(dict.fromkeys(warnings)), attempts)

    def _post(self, body: bytes) -> tuple[dict[str, Any], int]:
        headers = {"Content-Type": "application/json"}
        for attempt in range(1, self._retries + 2):
            try:
                response = self._http.post(self._alerts_url, content=body, headers=headers)
            except httpx2.TransportError as exc:
                if attempt > self._retries:
                    raise SendError(None, f"unreachable after {attempt} attempts: {exc}") from exc
                self._wait(attempt, None)
                continue
            if response.status_code in RETRY_STATUSES and attempt <= self._retries:
                self._wait(attempt, response.headers.get("retry-after"))
                continue
            if response.status_code in (200, 207):
                answer: dict[str, Any] = response.json()
                return answer, attempt
            raise _refusal(response)
        raise AssertionError("unreachable")

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        delay = self._backoff_s * 2 ** (attempt - 1)
        if retry_after is not None and retry_after.isdigit():
            delay = max(delay, float(retry_after))
        time.sleep(min(delay, 60.0))


def _refusal(response: httpx2.Response) -> SendError:
    try:
        problem = response.json()
    except ValueError:
        return SendError(response.status_code, response.text[:500] or response.reason_phrase)
    if not isinstance(problem, dict):
        return SendError(response.status_code, response.reason_phrase)
    return SendError(
        response.status_code,
        str(problem.get("detail") or problem.get("title") or response.reason_phrase),
        _messages(problem.get("errors")),
    )
