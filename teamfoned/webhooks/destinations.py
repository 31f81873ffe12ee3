"""Where a webhook may connect: public addresses, and what the sysadmin's allowlist names; decided by the resolved address.

A tenant chooses the URL, so a tenant must not be able to point it at this machine or the site's
own network (server-side request forgery). The rule is applied to the address the connection is
actually made to: names are resolved once, the addresses are filtered, and only the vetted ones
are handed to the connector, so a name that changes its answer between a check and the connect
(DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp.abc import AbstractResolver
from aiohttp.resolver import ThreadedResolver

if TYPE_CHECKING:  # a TypedDict of newer aiohttp releases; at run time a plain dict
    from aiohttp.abc import ResolveResult

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Names that always mean this machine or the local site (RFC 6761, RFC 8375, common private suffixes).
LOCAL_NAMES = ("localhost", "localhost.localdomain")
LOCAL_SUFFIXES = (".localhost", ".local", ".localdomain", ".internal", ".lan", ".home.arpa",
                  ".intranet", ".corp")


class DestinationRefused(OSError):
    """The destination resolves to no address a webhook may reach (OSError: what aiohttp expects of a resolver)."""

    def __init__(self, host: str, port: int, addresses: Iterable[str] = ()) -> None:
        self.host, self.port, self.addresses = host, port, tuple(addresses)
        shown = ", ".join(self.addresses) or "no address"
        super().__init__(f"{host}:{port} resolves to {shown}: not a public address, not allowed")


@dataclass(frozen=True)
class AllowedDestination:
    """One allowlist entry: a network, and optionally the one port allowed on it."""

    network: Network
    port: int | None = None

    def admits(self, address: Address, port: int) -> bool:
        return (address.version == self.network.version and address in self.network
                and self.port in (None, port))

    def __str__(self) -> str:
        if self.port is None:
            return str(self.network)
        text = str(self.network)
        return f"[{text}]:{self.port}" if self.network.version == 6 else f"{text}:{self.port}"


def parse_destination(text: str) -> AllowedDestination:
    """`10.1.2.3`, `10.1.2.0/24`, `127.0.0.1:9000`, `::1`, `[::1]:9000`, `[fd00::/8]:443`."""
    raw, port = text.strip(), None
    if raw.startswith("["):
        inside, bracket, rest = raw[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{text!r}: write an IPv6 network with a port as [network]:port")
        raw, port = inside, _port(text, rest[1:]) if rest else None
    elif raw.count(":") == 1:
        raw, port_text = raw.split(":")
        port = _port(text, port_text)
    try:
        network = ipaddress.ip_network(raw, strict=True)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an IP address or network ({exc})") from None
    return AllowedDestination(network, port)


def _port(text: str, value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
    return int(value)


def literal_address(host: str) -> Address | None:
    """The address a URL's host names literally, also in the legacy IPv4 forms (`127.1`, `0x7f.1`)."""
    try:
        return _unmapped(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    if host and all(part.isalnum() for part in host.split(".")):
        try:  # what getaddrinfo would turn "2130706433" or "0177.0.0.1" into
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def looks_local(host: str) -> bool:
    """A name that obviously means this machine or the local site: single labels, .local, .internal..."""
    name = host.lower().rstrip(".")
    return name in LOCAL_NAMES or name.endswith(LOCAL_SUFFIXES) or "." not in name


def _unmapped(address: Address) -> Address:
    # ::ffff:127.0.0.1 reaches 127.0.0.1: judge the IPv4 address it carries.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_public(address: Address) -> bool:
    """A globally routed unicast address: not loopback, private, link-local, shared, multicast, reserved or unspecified."""
    address = _unmapped(address)
    return (address.is_global and not address.is_multicast and not address.is_reserved
            and not address.is_link_local and not address.is_loopback
            and not address.is_unspecified and not address.is_private)


@dataclass(frozen=True)
class DestinationPolicy:
    """Public addresses (unless `public` is off: plain http) plus the sysadmin's allowlist."""

    allowed: tuple[AllowedDestination, ...] = ()
    public: bool = True

    @classmethod
    def from_config(cls, entries: Iterable[str], *, public: bool = True) -> DestinationPolicy:
        return cls(tuple(parse_destination(e) for e in entries), public)

    def permits(self, address: Address, port: int) -> bool:
        address = _unmapped(address)
        if self.public and is_public(address):
            return True
        return any(entry.admits(address, port) for entry in self.allowed)

    def may_reach_local_name(self, host: str, port: int) -> bool:
        """Whether an obviously local name can pass at delivery time (decided there, by its address)."""
        name = host.lower().rstrip(".")
        if name in LOCAL_NAMES or name.endswith(".localhost"):
            loopback = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
            return any(entry.admits(a, port) for entry in self.allowed for a in loopback)
        return any(entry.port in (None, port) for entry in self.allowed)


class VettingResolver(AbstractResolver):
    """Resolves a name once and hands the connector only the addresses the policy permits.

    The results keep the name as `hostname`, so TLS still checks the certificate against it.
    aiohttp does not ask a resolver about literal IP addresses: the sender checks those itself.
    """

    def __init__(self, policy: DestinationPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self.inner = inner or ThreadedResolver()

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        vetted = [r for r in found if self.policy.permits(ipaddress.ip_address(r["host"]), port)]
        if not vetted:
            raise DestinationRefused(host, port, (r["host"] for r in found))
        return vetted

    async def close(self) -> None:
        await self.inner.close()
