"""Outbound-URL safety: address classification, name resolution and the connect-time guard."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentineliq.providers.net import (
    BlockedTargetError,
    UnsafeTargetError,
    address_problem,
    check_host,
    guarded_transport,
)


@pytest.mark.parametrize(
    ("address", "category"),
    [
        ("127.0.0.1", "a private or loopback address"),
        ("127.8.9.10", "a private or loopback address"),
        ("10.1.2.3", "a private or loopback address"),
        ("172.16.0.1", "a private or loopback address"),
        ("192.168.1.1", "a private or loopback address"),
        ("169.254.1.1", "a private or loopback address"),  # link-local is in the private list
        ("0.0.0.0", "an unspecified address"),
        ("224.0.0.1", "a multicast address"),
        ("100.64.0.1", "a reserved address"),  # carrier-grade NAT
        ("240.0.0.1", "a private or loopback address"),
        ("::1", "a private or loopback address"),
        ("::", "an unspecified address"),
        ("fe80::1", "a private or loopback address"),
        ("fc00::1", "a private or loopback address"),
        ("ff02::1", "a multicast address"),
        ("::ffff:127.0.0.1", "a private or loopback address"),  # IPv4-mapped
        ("64:ff9b::a00:1", "a private or loopback address"),  # NAT64 of 10.0.0.1
    ],
)
def test_internal_addresses_are_refused(address: str, category: str) -> None:
    problem = address_problem(ipaddress.ip_address(address))
    assert problem == (category, False)


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "fd00:ec2::254", "::ffff:169.254.169.254", "100.100.100.200"]
)
def test_metadata_addresses_are_refused_even_when_private_targets_are_allowed(
    address: str,
) -> None:
    assert address_problem(ipaddress.ip_address(address)) == (
        "a cloud metadata service address",
        True,
    )
    with pytest.raises(UnsafeTargetError) as caught:
        check_host(address, allow_private=True)
    assert caught.value.always_refused


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address)) is None
    check_host(address, allow_private=False)


LOOPBACK = "a private or loopback address"
METADATA = "a cloud metadata service address"

# Every spelling of an internal target from the security review (issue 8). Literal forms are
# refused without DNS (resolve_names=False); "localhost." is a name, resolved via /etc/hosts.
REVIEW_FORMS: list[tuple[str, str, str, bool]] = [
    # (host, reason, where the message says it points, needs resolving)
    ("2130706433", LOOPBACK, "2130706433 -> 127.0.0.1", False),  # decimal
    ("0177.0.0.1", LOOPBACK, "0177.0.0.1 -> 127.0.0.1", False),  # octal
    ("0x7f.0.0.1", LOOPBACK, "0x7f.0.0.1 -> 127.0.0.1", False),  # hex part
    ("0x7f000001", LOOPBACK, "0x7f000001 -> 127.0.0.1", False),  # hex whole
    ("0xA9FEA9FE", METADATA, "0xa9fea9fe -> 169.254.169.254", False),
    ("127.1", LOOPBACK, "127.1 -> 127.0.0.1", False),  # short forms
    ("127.0.1", LOOPBACK, "127.0.1 -> 127.0.0.1", False),
    ("::ffff:127.0.0.1", LOOPBACK, "::ffff:127.0.0.1", False),  # IPv4-mapped
    ("[::ffff:7f00:1]", LOOPBACK, "::ffff:7f00:1", False),
    ("64:ff9b::7f00:1", LOOPBACK, "64:ff9b::7f00:1", False),  # NAT64
    ("2002:7f00:0001::", LOOPBACK, "2002:7f00:0001::", False),  # 6to4 of 127.0.0.1
    ("2002:0a00:0001::1", LOOPBACK, "2002:0a00:0001::1", False),  # 6to4 of 10.0.0.1
    ("2002:a9fe:a9fe::", METADATA, "2002:a9fe:a9fe::", False),  # 6to4 of the metadata service
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "a Teredo tunnel address", "2001:0:", False),
    ("2001:0:7f00:1::", "a Teredo tunnel address", "2001:0:7f00:1::", False),  # server 127.0.0.1
    ("2001:0:a9fe:a9fe::", METADATA, "2001:0:a9fe:a9fe::", False),  # Teredo server = metadata
    ("fec0::1", "a site-local address", "fec0::1", False),
    ("[fec0:1:2::3]", "a site-local address", "fec0:1:2::3", False),
    ("127.0.0.1.", LOOPBACK, "127.0.0.1", False),  # trailing dot
    ("\uff11\uff12\uff17.\uff10.\uff10.\uff11", LOOPBACK, "127.0.0.1", False),  # fullwidth digits
    ("\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11", LOOPBACK, "127.0.0.1", False),
    ("localhost.", LOOPBACK, "localhost -> ", True),
]


@pytest.mark.parametrize(("host", "reason", "where", "resolve"), REVIEW_FORMS)
def test_every_spelling_of_an_internal_address_is_refused(
    host: str, reason: str, where: str, resolve: bool
) -> None:
    with pytest.raises(UnsafeTargetError) as caught:
        check_host(host, allow_private=False, resolve_names=resolve)
    assert caught.value.reason.startswith(f"points at {reason} ({where}")
    assert caught.value.always_refused == (reason == METADATA)
    if reason != METADATA:
        check_host(host, allow_private=True, resolve_names=resolve)
    else:
        with pytest.raises(UnsafeTargetError):
            check_host(host, allow_private=True, resolve_names=resolve)


@pytest.mark.parametrize(
    "host",
    [
        "8.8.8.8",
        "8.8.8.8.",
        "134744072",  # 8.8.8.8 in decimal
        "0x08080808",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "2002:0808:0808::1",  # 6to4 of a public IPv4
        "\uff18.\uff18.\uff18.\uff18",
        "jira.example.com",  # names are not looked up with resolve_names=False
        "0xface.example.com",
    ],
)
def test_public_spellings_pass_without_dns(host: str) -> None:
    check_host(host, allow_private=False, resolve_names=False)


_PRIVATE_V4 = [
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16")
]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(_PRIVATE_V4), st.integers(min_value=0), st.booleans())
def test_every_private_ipv4_is_refused_also_in_ipv6_mapped_form(
    network: ipaddress.IPv4Network, offset: int, mapped: bool
) -> None:
    ip = network[offset % network.num_addresses]
    literal = f"::ffff:{ip}" if mapped else str(ip)
    with pytest.raises(UnsafeTargetError):
        check_host(literal, allow_private=False)


def test_names_are_resolved_and_checked() -> None:
    with pytest.raises(UnsafeTargetError) as caught:
        check_host("localhost", allow_private=False)
    assert "localhost -> " in str(caught.value)
    check_host("localhost", allow_private=True)


def test_metadata_host_name_is_refused_without_resolving() -> None:
    with pytest.raises(UnsafeTargetError) as caught:
        check_host("Metadata.Google.Internal.", allow_private=True)
    assert caught.value.always_refused


def test_unresolvable_name_passes_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    # A DNS outage must not invalidate a stored configuration; the connect-time guard checks
    # the name again. The resolver is made to fail here so the test sends no DNS query.
    def no_dns(*args: object, **kwargs: object) -> object:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    check_host("jira.example.invalid", allow_private=False)


class _Hello(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def loopback_server() -> Iterator[str]:
    _Hello.hits = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_guard_blocks_connections_to_loopback(loopback_server: str) -> None:
    with httpx2.Client(transport=guarded_transport(allow_private=False)) as client:
        with pytest.raises(BlockedTargetError) as caught:
            client.get(loopback_server)
        port = loopback_server.rsplit(":", 1)[1]
        with pytest.raises(BlockedTargetError) as by_name:
            client.get(f"http://localhost:{port}/")
    assert "private or loopback" in caught.value.reason
    assert "localhost -> " in by_name.value.reason
    assert _Hello.hits == 0


# httpx2 itself rejects dotted-quad look-alikes such as 0177.0.0.1 ("Invalid IPv4 address").
@pytest.mark.parametrize("host", ["0x7f.0.0.1", "2130706433", "127.1", "127.0.0.1."])
def test_guard_blocks_other_spellings_of_loopback(loopback_server: str, host: str) -> None:
    port = loopback_server.rsplit(":", 1)[1]
    transport = guarded_transport(allow_private=False)
    with httpx2.Client(transport=transport) as client, pytest.raises(BlockedTargetError) as caught:
        client.get(f"http://{host}:{port}/")
    assert caught.value.reason.startswith("a private or loopback address")
    assert _Hello.hits == 0


def test_guard_allows_loopback_when_permitted(loopback_server: str) -> None:
    with httpx2.Client(transport=guarded_transport(allow_private=True)) as client:
        assert client.get(loopback_server).text == "ok"
    assert _Hello.hits == 1
