"""The destination rule of webhooks and their signature, as plain functions (the HTTP side is in tests/security)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest
from aiohttp.abc import AbstractResolver

from teamfoned.config import ConfigError, settings_from_dict
from teamfoned.webhooks.destinations import (
    DestinationPolicy,
    DestinationRefused,
    VettingResolver,
    is_public,
    literal_address,
    looks_local,
    parse_destination,
)
from teamfoned.webhooks.signing import signature, verify

NOT_PUBLIC = ["127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.0.1", "192.168.1.1", "169.254.169.254",
              "100.64.0.1", "0.0.0.0", "224.0.0.1", "239.1.2.3", "240.0.0.1", "255.255.255.255",
              "192.0.2.1", "198.18.0.1", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1",
              "ff02::1", "ff0e::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2001:db8::1"]


@pytest.mark.parametrize("address", NOT_PUBLIC)
def test_non_public_addresses(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    assert not DestinationPolicy().permits(ipaddress.ip_address(address), 443)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111"])
def test_public_addresses(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))
    assert not DestinationPolicy(public=False).permits(ipaddress.ip_address(address), 80)


def test_the_allowlist_admits_its_networks_and_ports_only() -> None:
    policy = DestinationPolicy.from_config(["10.1.2.3", "127.0.0.1:9000", "[::1]:9001",
                                            "192.168.0.0/16"])
    ip = ipaddress.ip_address
    assert policy.permits(ip("10.1.2.3"), 1234) and not policy.permits(ip("10.1.2.4"), 1234)
    assert policy.permits(ip("127.0.0.1"), 9000) and not policy.permits(ip("127.0.0.1"), 8088)
    assert policy.permits(ip("::ffff:127.0.0.1"), 9000)
    assert policy.permits(ip("::1"), 9001) and not policy.permits(ip("::1"), 9000)
    assert policy.permits(ip("192.168.77.1"), 80)


@pytest.mark.parametrize("entry", ["10.1.2.3/8", "nonsense", "127.0.0.1:0", "127.0.0.1:99999",
                                   "[::1", "::1:80x", "localhost:80"])
def test_bad_allowlist_entries(entry: str) -> None:
    with pytest.raises(ValueError):
        parse_destination(entry)


def test_a_bad_allowlist_is_a_config_error_naming_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from_dict({"ari": {"password": "x"},
                            "webhooks": {"allow_destinations": ["10.0.0.0/33", "10.1.2.3"]}})
    assert caught.value.problems[0].startswith("webhooks.allow_destinations: ")
    assert settings_from_dict({"ari": {"password": "x"}}).webhooks.allow_destinations == ()


def test_literal_addresses_in_every_spelling() -> None:
    loopback = ipaddress.ip_address("127.0.0.1")
    for host in ("127.0.0.1", "2130706433", "0x7f.1", "127.1", "0177.0.0.1", "[::ffff:127.0.0.1]"):
        assert literal_address(host) == loopback, host
    assert literal_address("hooks.example.com") is None
    assert all(looks_local(h) for h in ("localhost", "a.localhost", "intranet", "x.local", "db.internal"))
    assert not looks_local("hooks.example.com")


class Fixed(AbstractResolver):
    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[Any]:
        return [{"hostname": host, "host": a, "port": port, "family": family, "proto": 0,
                 "flags": 0} for a in self.addresses]

    async def close(self) -> None:
        pass


async def test_the_resolver_hands_on_only_vetted_addresses() -> None:
    vetting = VettingResolver(DestinationPolicy(), Fixed("127.0.0.1", "93.184.216.34", "10.0.0.1"))
    found = await vetting.resolve("hooks.example.com", 443)
    # The name stays with the address: TLS checks the certificate against it.
    assert [(r["hostname"], r["host"]) for r in found] == [("hooks.example.com", "93.184.216.34")]
    with pytest.raises(DestinationRefused):
        await VettingResolver(DestinationPolicy(), Fixed("127.0.0.1", "::1")).resolve("x.example", 443)


def test_the_signature_covers_the_delivery_id() -> None:
    body, stamp = b'{"event": "call.missed"}', 1_800_000_000
    signed = signature("key", "delivery-1", stamp, body)
    assert verify("key", "delivery-1", stamp, body, signed, now=stamp)
    assert not verify("key", "delivery-2", stamp, body, signed, now=stamp)
    assert not verify("key", "delivery-1", stamp + 1, body, signed, now=stamp)
    assert not verify("key", "delivery-1", stamp, body, signed, now=stamp + 301)
