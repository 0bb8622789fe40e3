"""Trusted reverse proxies: X-Forwarded-For and X-Forwarded-Proto, from listed peers only.

The rewriting itself is uvicorn's maintained ProxyHeadersMiddleware: the client is the
right-most X-Forwarded-For entry that is not itself a trusted proxy, so entries a client
prepends are ignored. Around it this module adds what the service needs on top:

- requests from any other peer reach the app untouched (no header is even looked at);
- only `http` and `https` are accepted from X-Forwarded-Proto (uvicorn also takes ws/wss);
- the forwarded client must be an IP address, written canonically (an IPv4-mapped IPv6
  address becomes the IPv4 one), because audit entries and login throttles key on it;
- an IPv4 proxy also matches when a dual-stack listener reports it as ::ffff:a.b.c.d.

Installed by `create_app` from `Settings.trusted_proxies`, so every server behaves the same.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from sentineliq.settings import ProxyNetwork
from sentineliq.web.api.problems import problem_response

_PROTO = b"x-forwarded-proto"
_WEB_SCHEMES = (b"http", b"https")


def _with_mapped_forms(networks: Sequence[ProxyNetwork]) -> tuple[ProxyNetwork, ...]:
    mapped: list[ProxyNetwork] = []
    for network in networks:
        if isinstance(network, ipaddress.IPv4Network):
            mapped.append(
                ipaddress.IPv6Network(f"::ffff:{network.network_address}/{96 + network.prefixlen}")
            )
    return (*networks, *mapped)


def canonical_ip(host: str) -> str | None:
    """`host` as one canonical spelling, or None when it is not an IP address."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


class TrustedProxyHeaders:
    """ASGI middleware: the client address and scheme a trusted proxy forwarded."""

    def __init__(self, app: ASGIApp, networks: Sequence[ProxyNetwork]) -> None:
        self.app = app
        self._networks = _with_mapped_forms(networks)
        self._rewrite = ProxyHeadersMiddleware(
            self._checked,  # type: ignore[arg-type]  # uvicorn's own ASGI protocol types
            trusted_hosts=[str(network) for network in self._networks],
        )

    def _trusted(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:  # not an IP peer (a unix socket): never trusted
            return False
        return any(address in network for network in self._networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client") if scope["type"] == "http" else None
        if client is None or not self._trusted(client[0]):
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        protos = [value for name, value in headers if name == _PROTO]
        if protos and protos[-1].strip() not in _WEB_SCHEMES:
            # uvicorn reads the last one; anything but http/https leaves the scheme alone.
            scope = {**scope, "headers": [item for item in headers if item[0] != _PROTO]}
        await self._rewrite(scope, receive, send)  # type: ignore[arg-type]

    async def _checked(self, scope: Scope, receive: Receive, send: Send) -> None:
        host, port = scope["client"]
        canonical = canonical_ip(host)
        if canonical is None:
            # Only a misconfigured proxy forwards this; refuse rather than audit a made-up name.
            response = problem_response(
                400, "the client address in X-Forwarded-For is not an IP address"
            )
            await response(scope, receive, send)
            return
        scope["client"] = (canonical, port)
        await self.app(scope, receive, send)
