"""sentineliq.client against the real service over real HTTP: typed alerts in, one answer per
alert out, batches split, a refused request raised with the service's reason, and a batch whose
answer was lost on the wire (a real TCP relay that closes the connection once the service has
answered) retried into duplicates."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest

from sentineliq.alerts import Alert, Observable, ObservableType, Severity
from sentineliq.client import Client, SendError
from sentineliq.services.context import AppContext
from sentineliq.storage.alerts import AlertRepository


def alert(n: int, **fields: Any) -> Alert:
    return Alert(
        title=f"Beaconing to C2 from host-{n}",
        severity=Severity.HIGH,
        source="NDR",
        detected_at=datetime(2026, 12, 3, 8, n, tzinfo=UTC),
        observables=[Observable(type=ObservableType.DOMAIN, value=f"c2-{n}.example.net")],
        **fields,
    )


class LosingRelay:
    """A TCP relay to the service that drops the answer of its first `lose` connections: the
    request reaches the service, which acts and answers; the relay then closes the client's
    connection without passing a byte of the answer on."""

    def __init__(self, target: str, lose: int) -> None:
        parts = urlsplit(target)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._lose = lose
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.lost = 0
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with suppress(OSError):
            while True:
                client, _ = self._listener.accept()
                upstream = socket.create_connection(self._target)
                self._sockets += [client, upstream]
                lose = self.lost < self._lose
                if lose:
                    self.lost += 1
                threading.Thread(target=self._pump, args=(client, upstream, False)).start()
                threading.Thread(target=self._pump, args=(upstream, client, lose)).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket, lose: bool) -> None:
        with suppress(OSError):
            while data := source.recv(65536):
                if lose:
                    break  # the service has answered, so it has acted: the answer goes nowhere
                sink.sendall(data)
        for end in (source, sink):
            with suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._listener.close()
        for end in self._sockets:
            end.close()


@pytest.fixture
def service(
    app_context: AppContext, people: Any, serve: Callable[..., Any]
) -> tuple[str, str, str]:
    """(the server's URL, the workspace id, its API key)."""
    ws = people.workspace("SOC")
    return serve().url, ws.id, people.api_key(ws.id, "python")


def test_send_answers_per_alert_and_a_second_send_is_duplicates(
    service: tuple[str, str, str], app_context: AppContext
) -> None:
    url, workspace, key = service
    with Client(f"{url}/api/v1/workspaces/{workspace}", key, batch_size=2) as client:
        alerts = [alert(1, external_id="ndr-1"), alert(2), alert(3, external_id="ndr-3")]
        report = client.send(alerts)
        assert [(a.index, a.status) for a in report.alerts] == [
            (0, "accepted"),
            (1, "accepted"),
            (2, "accepted"),
        ]
        assert report.attempts == 2  # two batches
        stored = AlertRepository(app_context.db).get(report.alerts[0].alert_id or "")
        assert stored.alert == alerts[0]  # the same model, end to end
        again = client.send(alerts)
        assert again.duplicates == 3
        assert [a.alert_id for a in again.alerts] == [a.alert_id for a in report.alerts]
        one = client.send(alert(1, external_id="ndr-1"))
        assert [(a.index, a.status) for a in one.alerts] == [(0, "duplicate")]


def test_a_lost_answer_is_retried_into_duplicates_not_new_alerts(
    service: tuple[str, str, str], app_context: AppContext
) -> None:
    url, workspace, key = service
    relay = LosingRelay(url, lose=1)
    try:
        with Client(relay.url, key, workspace=workspace, backoff_s=0.01) as client:
            report = client.send([alert(1, external_id="ndr-1"), alert(2)])
    finally:
        relay.close()
    assert relay.lost == 1
    assert report.attempts == 2
    assert [a.status for a in report.alerts] == ["duplicate", "duplicate"]
    assert len(AlertRepository(app_context.db).list_for_workspace(workspace)) == 2


def test_a_request_refused_whole_raises_with_the_services_reason(
    service: tuple[str, str, str],
) -> None:
    url, workspace, key = service
    with (
        Client(url, "siq_notakey_0000", workspace=workspace) as client,
        pytest.raises(SendError) as refused,
    ):
        client.send(alert(1))
    assert refused.value.status == 401
    assert "API key" in refused.value.detail
    with Client(url, key, workspace="not-this-one") as client, pytest.raises(SendError) as hidden:
        client.send(alert(1))
    assert hidden.value.status == 404


def test_the_url_must_name_the_workspace() -> None:
    with pytest.raises(ValueError, match="workspace"):
        Client("http://127.0.0.1:1", "siq_x")
