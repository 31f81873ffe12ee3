"""Finding 4: webhooks reach only public addresses or what the sysadmin allows, say little, and never stall each other.

Webhooks are created through the real HTTP API and delivered by the daemon's real sender to real
receivers on loopback (which only the sysadmin's allowlist can open up).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver
from structlog.testing import capture_logs

from teamfoned.config import Settings, settings_from_dict
from teamfoned.store.outbox import enqueue_call_events
from teamfoned.webhooks.delivery import WebhookSender
from teamfoned.webhooks.signing import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.integration.test_api_bench import LiveApi, error_of, live

if TYPE_CHECKING:
    from aiohttp.abc import ResolveResult

GENERIC_ERRORS = {"destination not allowed or not found", "connection failed", "timed out",
                  "TLS failed", "redirect not followed"}


def settings(allow: list[str], **webhooks: Any) -> Settings:
    return settings_from_dict({"ari": {"password": "unused"}, "routing": {"wrap_up": 10},
                               "webhooks": {"allow_destinations": allow, **webhooks}})


def sender(api: LiveApi, config: Settings, resolver: Callable[[], AbstractResolver] | None = None
           ) -> WebhookSender:
    """The daemon's delivery task, as app.py builds it (plus a short poll interval)."""
    return WebhookSender(api.sessions, config.webhooks, clock=lambda: datetime.now(UTC),
                         interval=0.2, resolver=resolver)


@contextlib.asynccontextmanager
async def running(task_of: WebhookSender) -> AsyncIterator[None]:
    task = asyncio.create_task(task_of.run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass
class Receiver:
    """A real HTTP server on 127.0.0.1 that records what it gets."""

    status: int = 204
    delay: float = 0.0
    got: list[tuple[float, dict[str, str], bytes]] = field(default_factory=list)
    port: int = 0
    release: asyncio.Event = field(default_factory=asyncio.Event)
    active: int = 0
    peak: int = 0  # the most requests it had at once

    async def handle(self, request: web.Request) -> web.Response:
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            body = await request.read()
            if self.delay:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.release.wait(), self.delay)
        finally:
            self.active -= 1
        self.got.append((time.monotonic(), dict(request.headers), body))
        headers = {"Location": "http://10.9.8.7/internal"} if 300 <= self.status < 400 else None
        return web.Response(status=self.status, headers=headers)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@contextlib.asynccontextmanager
async def receiver(**kwargs: Any) -> AsyncIterator[Receiver]:
    found = Receiver(**kwargs)
    app = web.Application()
    app.router.add_post("/hook", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    found.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield found
    finally:
        found.release.set()  # a slow handler answers now: the teardown does not wait for it
        await runner.cleanup()


class HostsResolver(AbstractResolver):
    """A hosts file for the test: no external DNS here, and a name must resolve to loopback."""

    def __init__(self, hosts: dict[str, str]) -> None:
        self.hosts = hosts

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if host not in self.hosts:
            raise OSError(f"{host} not in the test's hosts")
        return [{"hostname": host, "host": self.hosts[host], "port": port,
                 "family": socket.AF_INET, "proto": 0, "flags": 0}]

    async def close(self) -> None:
        pass


async def create(api: LiveApi, who: str, url: str) -> tuple[str, str]:
    made = await api.client.post("/v1/admin/webhooks", headers=api.world.auth(who),
                                 json={"url": url, "events": ["call.finished", "call.missed"]})
    assert made.status_code == 201, made.text
    return made.json()["id"], made.json()["secret"]


async def enqueue(api: LiveApi, *calls: str) -> None:
    async with api.sessions() as session, session.begin():
        for key in calls:
            await enqueue_call_events(session, api.world.calls[key],
                                      now=api.clock.now - timedelta(minutes=1))


async def deliveries(api: LiveApi, who: str, hook_id: str) -> list[dict[str, Any]]:
    done = await api.client.get(f"/v1/admin/webhooks/{hook_id}/deliveries",
                                headers=api.world.auth(who))
    assert done.status_code == 200, done.text
    return done.json()


async def until(check: Callable[[], Any], seconds: float, what: str) -> None:
    for _ in range(int(seconds * 20)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {what}")


@pytest.fixture(name="allowing_loopback")
async def allowing_loopback_fixture(migrated_db_url: str) -> AsyncIterator[LiveApi]:
    """The API of a site whose sysadmin allows receivers on 127.0.0.1 (any port)."""
    async with live(migrated_db_url, settings(["127.0.0.1/32"])) as api:
        yield api


@pytest.fixture(name="allowing_nothing")
async def allowing_nothing_fixture(migrated_db_url: str) -> AsyncIterator[LiveApi]:
    async with live(migrated_db_url, settings([])) as api:
        yield api


async def test_creation_refuses_local_destinations_unless_allowed(allowing_nothing: LiveApi) -> None:
    api = allowing_nothing
    before = await api.snapshot()
    for url in ("http://127.0.0.1:9000/relay", "http://localhost:8088/ari", "https://localhost/x",
                "https://127.0.0.1/x", "https://10.1.2.3/x", "https://192.168.1.1:8443/x",
                "https://169.254.169.254/latest/meta-data", "https://[::1]:8080/x",
                "https://[fe80::1]/x", "https://[::ffff:127.0.0.1]/x", "https://0.0.0.0/x",
                "https://224.0.0.1/x", "https://100.64.0.1/x", "https://2130706433/x",
                "https://intranet/x", "https://printer.local/x", "https://db.internal/x"):
        done = await api.client.post("/v1/admin/webhooks", headers=api.world.auth("ann"),
                                     json={"url": url, "events": ["call.missed"]})
        assert done.status_code == 422, (url, done.text)
        assert error_of(done)["fields"][0]["field"] == "url", url
    assert await api.snapshot() == before


async def test_loopback_receiver_only_when_the_sysadmin_allows_it(allowing_loopback: LiveApi) -> None:
    api = allowing_loopback
    async with receiver() as hook:
        hook_id, secret = await create(api, "ann", hook.url)
        await enqueue(api, "nobody")  # two events: call.finished and call.missed
        # The same outbox, sent by a daemon whose config allows nothing (e.g. the entry was removed).
        with capture_logs() as logged:
            async with running(sender(api, settings([]))):
                async def both_failed() -> bool:
                    return all(d["attempts"] >= 1 for d in await deliveries(api, "ann", hook_id))
                await until(both_failed, 5, "both deliveries tried")
        assert hook.got == []
        shown = await deliveries(api, "ann", hook_id)
        assert {d["last_error"] for d in shown} == {"destination not allowed or not found"}, shown
        # The sysadmin's log says what happened.
        failed = [e for e in logged if e["event"] == "webhook_failed"]
        assert failed and "127.0.0.1" in failed[0]["detail"], logged

        # With the allowlist the delivery goes out, signed over the delivery id too.
        async with api.sessions() as session, session.begin():
            from sqlalchemy import update

            from teamfoned.store.tables import webhook_deliveries
            await session.execute(update(webhook_deliveries).values(
                next_attempt_at=datetime.now(UTC) - timedelta(seconds=1)))
        async with running(sender(api, settings(["127.0.0.1/32"]))):
            async def both_received() -> bool:
                return len(hook.got) >= 2
            await until(both_received, 5, "both deliveries received")
        for _, headers, body in hook.got:
            stamp, delivery = int(headers[TIMESTAMP_HEADER]), headers[DELIVERY_HEADER]
            now = int(time.time())
            assert verify(secret, delivery, stamp, body, headers[SIGNATURE_HEADER], now=now)
            assert not verify(secret, str(uuid.uuid4()), stamp, body, headers[SIGNATURE_HEADER],
                              now=now)
        assert {d["delivered_at"] is not None for d in await deliveries(api, "ann", hook_id)} == {True}


async def test_a_name_resolving_to_loopback_is_refused_at_delivery(allowing_nothing: LiveApi) -> None:
    api = allowing_nothing
    async with receiver() as hook:
        hook_id, _ = await create(api, "ann", f"https://hooks.example.com:{hook.port}/hook")
        await enqueue(api, "nobody")
        names = {"hooks.example.com": "127.0.0.1"}
        async with running(sender(api, settings([]), lambda: HostsResolver(names))):
            async def tried() -> bool:
                return all(d["attempts"] >= 1 for d in await deliveries(api, "ann", hook_id))
            await until(tried, 5, "the deliveries tried")
        assert hook.got == []
        shown = await deliveries(api, "ann", hook_id)
        assert {d["last_error"] for d in shown} == {"destination not allowed or not found"}, shown


async def test_failures_read_generic_to_the_tenant(allowing_loopback: LiveApi) -> None:
    api = allowing_loopback
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    async with receiver(status=302) as redirecting, receiver(status=500) as failing:
        hooks = {await create(api, "ann", url): url for url in (
            redirecting.url, failing.url, f"http://127.0.0.1:{closed_port}/hook")}
        await enqueue(api, "dave_done")
        async with running(sender(api, api.settings)):
            async def all_tried() -> bool:
                for hook_id, _ in hooks:
                    if not all(d["attempts"] for d in await deliveries(api, "ann", hook_id)):
                        return False
                return True
            await until(all_tried, 5, "every webhook tried")
        errors = [d["last_error"] for (hook_id, _) in hooks
                  for d in await deliveries(api, "ann", hook_id)]
    assert errors == ["redirect not followed", "HTTP 500", "connection failed"], errors
    assert not any("Error" in e or "10.9.8.7" in e for e in errors)


async def test_a_slow_receiver_does_not_delay_another_tenant(allowing_loopback: LiveApi) -> None:
    api = allowing_loopback
    config = settings(["127.0.0.1/32"], timeout=2.5)
    async with receiver(delay=6.0) as slow, receiver() as fast:
        slow_id, _ = await create(api, "ann", slow.url)      # tenant acme
        await create(api, "gina", fast.url)                  # tenant globex
        # Acme's backlog is older, so it is first in line: four deliveries to its slow receiver.
        await enqueue(api, "nobody", "timed_out")
        await enqueue(api, "globex_call")
        started = time.monotonic()
        async with running(sender(api, config)):
            async def fast_got_it() -> bool:
                return len(fast.got) >= 1
            await until(fast_got_it, 5, "the other tenant's delivery")
            took = fast.got[0][0] - started
            assert took < 1.5, f"tenant B's delivery waited {took:.1f} s behind tenant A's"
            await asyncio.sleep(0.3)
            # Four are due to the slow receiver: webhooks.per_destination (2) at a time. (After a
            # timeout the receiver's handler still runs, so this is counted before the first.)
            assert slow.peak == 2

            async def slow_timed_out() -> bool:
                return any(d["attempts"] for d in await deliveries(api, "ann", slow_id))
            await until(slow_timed_out, 6, "the slow receiver's timeout")
        assert time.monotonic() - started < 6.0  # bounded by webhooks.timeout, not the receiver
        errors = {d["last_error"] for d in await deliveries(api, "ann", slow_id)} - {None}
        assert errors == {"timed out"}, errors
