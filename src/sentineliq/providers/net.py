"""Outbound-URL safety: keep provider traffic away from internal and cloud-metadata addresses.

An operator types the ticket system's URL, so it is untrusted input: pointed at 127.0.0.1, a
private range or the cloud metadata service it would turn the service into a proxy into its own
network (SSRF). The check runs twice: when the configuration is validated (IP literals and the
names the host resolves to now) and again on every connect (`guard_transport`), because a name
that resolved to a public address at save time can resolve to 127.0.0.1 later (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import re
import socket
import ssl
from collections.abc import Iterable

import httpcore2
import httpx2

from sentineliq.errors import ConfigurationError, TicketSystemError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata services (AWS/GCP/Azure/OpenStack, AWS IPv6, Alibaba, ECS task metadata).
# Never a legitimate ticket system, so they stay refused even when private targets are allowed.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2")
)
METADATA_HOSTNAMES = frozenset({"metadata.google.internal", "metadata.goog"})

_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# The forms inet_aton (and so getaddrinfo) reads as an IPv4 address: 1 to 4 decimal, octal or
# hex parts, e.g. 2130706433, 0177.0.0.1, 0x7f.1. Matched first so trailing text that glibc's
# inet_aton would ignore ("127.0.0.1 x") does not count as a literal.
_LEGACY_IPV4 = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}")


class UnsafeTargetError(ConfigurationError, ValueError):
    """The target is, or resolves to, an address providers must not contact."""

    def __init__(self, category: str, where: str, *, always_refused: bool = False) -> None:
        super().__init__(f"points at {category} ({where})")
        self.reason = f"points at {category} ({where})"
        self.target = f"{category} ({where})"  # e.g. "a private or loopback address (127.0.0.1)"
        # True for cloud metadata: no setting makes it acceptable.
        self.always_refused = always_refused


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    # ::ffff:127.0.0.1, 64:ff9b::7f00:1 and 6to4 2002:7f00:1:: reach the IPv4 host they embed.
    # 6to4 with a public IPv4 is judged by that IPv4 (as for NAT64), the same on every Python:
    # newer ones count all of 2002::/16 as private, 3.11 none of it.
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _teredo_problem(ip: ipaddress.IPv6Address) -> tuple[str, bool] | None:
    # The whole Teredo prefix (2001::/32) is refused, not only when the embedded server or
    # client IPv4 is: it tunnels to a host behind some NAT (never a hosted ticket system), the
    # client part is obfuscated, and Teredo is obsolete. An embedded metadata address still
    # makes it refused even with private targets allowed.
    if ip.teredo is None:
        return None
    for embedded in ip.teredo:
        problem = address_problem(embedded)
        if problem is not None and problem[1]:
            return problem
    return "a Teredo tunnel address", False


def address_problem(ip: IPAddress) -> tuple[str, bool] | None:
    """Why `ip` is refused, and whether it is refused even with private targets allowed."""
    if isinstance(ip, ipaddress.IPv6Address):
        ip = ipaddress.IPv6Address(int(ip))  # drops a %zone suffix
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return address_problem(embedded)
        teredo = _teredo_problem(ip)
        if teredo is not None:
            return teredo
        if ip.is_site_local:
            return "a site-local address", False  # fec0::/10: deprecated, internal only
    if ip in METADATA_ADDRESSES:
        return "a cloud metadata service address", True
    if ip.is_unspecified:
        return "an unspecified address", False
    if ip.is_loopback or ip.is_private:
        return "a private or loopback address", False
    if ip.is_link_local:
        return "a link-local address", False
    if ip.is_multicast:
        return "a multicast address", False
    if ip.is_reserved or not ip.is_global:
        return "a reserved address", False
    return None


def _parse_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def canonical_host(host: str) -> str:
    """`host` as the resolver sees it: no brackets or trailing dot, lower case, IDNA-encoded.

    getaddrinfo encodes a non-ASCII name with the idna codec first, whose NFKC step turns
    fullwidth digits and dots ("１２７．０．０．１") into "127.0.0.1"; the checks must see that too.
    """
    name = host.strip("[]").rstrip(".").lower()
    if name.isascii():
        return name
    try:
        return name.encode("idna").decode("ascii").rstrip(".").lower()
    except UnicodeError:
        return name


def literal_ip(name: str) -> IPAddress | None:
    """The address a canonical host name denotes without DNS, in any form the resolver reads."""
    ip = _parse_ip(name)
    if ip is not None or not _LEGACY_IPV4.fullmatch(name):
        return ip
    try:
        return ipaddress.IPv4Address(socket.inet_aton(name))
    except OSError:
        return None  # e.g. an out-of-range part or "08" (not octal)


def resolve(host: str, port: int | None) -> list[IPAddress]:
    """All addresses `host` resolves to now. Raises OSError (socket.gaierror) when it does not."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: dict[IPAddress, None] = {}
    for _family, _type, _proto, _canon, sockaddr in infos:
        seen.setdefault(ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0]), None)
    return list(seen)


def check_addresses(host: str, addresses: Iterable[IPAddress], *, allow_private: bool) -> None:
    for ip in addresses:
        problem = address_problem(ip)
        if problem is None:
            continue
        reason, always = problem
        if always or not allow_private:
            where = host.strip("[]") if ip == _parse_ip(host) else f"{host} -> {ip}"
            raise UnsafeTargetError(reason, where, always_refused=always)


def check_host(
    host: str, port: int | None = None, *, allow_private: bool, resolve_names: bool = True
) -> None:
    """Refuse a host that is, or currently resolves to, a forbidden address.

    A name that does not resolve passes: the connect-time guard checks it again, and a stored
    configuration must not become invalid because DNS hiccuped while it was loaded.
    """
    name = canonical_host(host)
    if name in METADATA_HOSTNAMES:
        raise UnsafeTargetError("a cloud metadata service address", name, always_refused=True)
    literal = literal_ip(name)
    if literal is not None:
        check_addresses(name, [literal], allow_private=allow_private)
        return
    if not resolve_names:
        return
    try:
        addresses = resolve(name, port)
    except (OSError, UnicodeError):
        return
    check_addresses(name, addresses, allow_private=allow_private)


class BlockedTargetError(TicketSystemError):
    """Raised by the guarded transport instead of connecting to a forbidden address.

    Deliberately not an httpcore/httpx exception, so it is not mistaken for a network failure
    that retrying could fix.
    """

    def __init__(self, host: str, reason: str, *, always_refused: bool = False) -> None:
        super().__init__(f"refused to connect to {host}: {reason}")
        self.host = host
        self.reason = reason
        self.always_refused = always_refused


class GuardedBackend(httpcore2.NetworkBackend):
    """Resolves the host itself, checks every address, and connects to a checked address only.

    Connecting to the checked IP (rather than handing the name back to the OS) closes the window
    in which a second DNS answer could differ. TLS still verifies the certificate against the
    original host name, which httpcore takes from the request, not from the connect address.
    """

    def __init__(self, inner: httpcore2.NetworkBackend, *, allow_private: bool) -> None:
        self._inner = inner
        self._allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        name = canonical_host(host)
        if name in METADATA_HOSTNAMES:
            raise BlockedTargetError(
                host, f"a cloud metadata service address ({name})", always_refused=True
            )
        literal = literal_ip(name)
        try:
            addresses = [literal] if literal is not None else resolve(name, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore2.ConnectError(f"could not resolve {host}: {exc}") from exc
        try:
            check_addresses(name, addresses, allow_private=self._allow_private)
        except UnsafeTargetError as exc:
            raise BlockedTargetError(host, exc.target, always_refused=exc.always_refused) from None
        last: Exception | None = None
        for ip in addresses:
            try:
                return self._inner.connect_tcp(
                    str(ip), port, timeout, local_address, socket_options
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                last = exc
        assert last is not None  # resolve() never returns an empty list without raising
        raise last

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
    ) -> httpcore2.NetworkStream:
        raise BlockedTargetError(path, "a unix socket", always_refused=True)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def guarded_transport(
    *, allow_private: bool, verify: ssl.SSLContext | bool = True
) -> httpx2.HTTPTransport:
    """An HTTPTransport whose every new connection goes through `GuardedBackend`.

    httpx2 has no public hook for the network backend, so the pool's backend is swapped after
    construction. If a future httpx2 moves it, this fails loudly rather than running unguarded.
    """
    # trust_env=False: an environment proxy would make the guard check the proxy, not the target.
    transport = httpx2.HTTPTransport(verify=verify, trust_env=False)
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore2.ConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError("cannot install the outbound address guard on this httpx2 version")
    pool._network_backend = GuardedBackend(pool._network_backend, allow_private=allow_private)
    return transport
