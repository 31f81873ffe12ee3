"""Delivers the webhook outbox: signed POSTs to vetted addresses, concurrently but fairly, retried with capped backoff.

Runs as one task of the daemon, never in the call path. A delivery is marked done only after a
2xx answer, so a crash between sending and marking sends it again: receivers get each event at
least once and can tell repeats apart by the delivery id header.

Each delivery is its own task, so a slow receiver holds only its own slot: at most
`per_destination` requests to one host and port, `per_tenant` for one tenant and `concurrency`
in all, and what is due is taken round-robin across tenants (store.outbox.due_deliveries).
What the tenant sees of a failure is a short generic reason; the detail goes to the log.
"""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
import structlog
from aiohttp.abc import AbstractResolver
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from yarl import URL

from teamfoned.config import WebhookSettings
from teamfoned.store.outbox import DueDelivery, due_deliveries, mark_delivered, mark_failed
from teamfoned.webhooks.destinations import (
    DestinationPolicy,
    DestinationRefused,
    VettingResolver,
    literal_address,
)
from teamfoned.webhooks.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
)

log = structlog.get_logger(__name__)

# After this many failed attempts a delivery is given up (it stays in the table, with its error).
MAX_ATTEMPTS = 15
# Due deliveries read per round (the in-flight limits decide how many of them start).
BATCH = 200

# What a tenant may read about a failure: nothing about this site's network or software.
NOT_ALLOWED = "destination not allowed or not found"
CONNECTION_FAILED = "connection failed"
TLS_FAILED = "TLS failed"
TIMED_OUT = "timed out"
REDIRECT = "redirect not followed"


def retry_delay(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s ... capped at one hour."""
    return timedelta(seconds=min(3600, 2 ** max(1, attempts)))


@dataclass(frozen=True)
class Destination:
    """Where a delivery connects, as the per-destination limit counts it."""

    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


class Refused(Exception):
    """A delivery that is not sent at all: `reason` for the tenant, `detail` for the log."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def destination_of(url: str) -> Destination:
    try:
        parsed = URL(url)
        host, port = parsed.host, parsed.port
    except ValueError as exc:
        raise Refused(NOT_ALLOWED, f"unusable URL: {exc}") from None
    if parsed.scheme not in ("http", "https") or not host or port is None:
        raise Refused(NOT_ALLOWED, f"not an http(s) URL with a host: {url!r}")
    return Destination(parsed.scheme, host.lower(), port)


class WebhookSender:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: WebhookSettings, *,
                 clock: Callable[[], datetime], interval: float = 1.0,
                 resolver: Callable[[], AbstractResolver] | None = None) -> None:
        """`resolver` makes the name resolver the vetting wraps (tests map names; default: the system's)."""
        self.sessions = sessions
        self.settings = settings
        self.clock = clock
        self.interval = interval
        self.timeout = aiohttp.ClientTimeout(total=settings.timeout)
        # https may go to any public address; plain http only where the sysadmin allows it.
        self.policies = {
            "https": DestinationPolicy.from_config(settings.allow_destinations),
            "http": DestinationPolicy.from_config(settings.allow_destinations, public=False),
        }
        self._resolver = resolver
        self._in_flight: dict[uuid.UUID, tuple[uuid.UUID, Destination | None]] = {}
        self._wake = asyncio.Event()

    async def run(self) -> None:
        """Start what is due whenever there is room, until cancelled (which cancels the requests in flight)."""
        async with self._clients() as clients, asyncio.TaskGroup() as tasks:
            failing = False
            while True:
                self._wake.clear()
                try:
                    await self.start_due(tasks, clients)
                    if failing:
                        log.info("webhook_rounds_resumed")
                    failing = False
                except (SQLAlchemyError, OSError) as exc:
                    # The database is away (the daemon keeps routing from its journal): say so
                    # once, not every second; the outbox waits for it.
                    if not failing:
                        log.warning("webhook_rounds_paused", error=str(exc).splitlines()[0][:200])
                    failing = True
                # A finished delivery frees a slot: look again at once instead of at the next tick.
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval)

    @asynccontextmanager
    async def _clients(self) -> AsyncIterator[dict[str, aiohttp.ClientSession]]:
        clients: dict[str, aiohttp.ClientSession] = {}
        try:
            for scheme, policy in self.policies.items():
                inner = self._resolver() if self._resolver else None
                connector = aiohttp.TCPConnector(
                    resolver=VettingResolver(policy, inner), limit=self.settings.concurrency,
                    limit_per_host=self.settings.per_destination)
                # trust_env off: no proxy from the environment decides where requests go.
                clients[scheme] = aiohttp.ClientSession(connector=connector, timeout=self.timeout,
                                                        trust_env=False)
            yield clients
        finally:
            for client in clients.values():
                await client.close()

    async def start_due(self, tasks: asyncio.TaskGroup,
                        clients: dict[str, aiohttp.ClientSession]) -> int:
        """Start a task for each due delivery there is room for; return how many started."""
        limits = self.settings
        if len(self._in_flight) >= limits.concurrency:
            return 0
        async with self.sessions() as session:
            due = await due_deliveries(session, now=self.clock(), max_attempts=MAX_ATTEMPTS,
                                       limit=BATCH, per_tenant=limits.per_tenant,
                                       exclude=set(self._in_flight))
        per_tenant = Counter(tenant for tenant, _ in self._in_flight.values())
        per_destination = Counter(dest for _, dest in self._in_flight.values())
        started = 0
        for delivery in due:
            if len(self._in_flight) >= limits.concurrency:
                break
            try:
                destination: Destination | None = destination_of(delivery.url)
            except Refused:
                destination = None  # refused in _deliver, with its reason
            if (per_tenant[delivery.tenant_id] >= limits.per_tenant
                    or (destination and per_destination[destination] >= limits.per_destination)):
                continue
            per_tenant[delivery.tenant_id] += 1
            per_destination[destination] += 1
            self._in_flight[delivery.id] = (delivery.tenant_id, destination)
            tasks.create_task(self._deliver(clients, delivery), name=f"webhook-{delivery.id}")
            started += 1
        return started

    async def _deliver(self, clients: dict[str, aiohttp.ClientSession], delivery: DueDelivery) -> None:
        try:
            reason, detail = await self._send(clients, delivery)
            await self._record(delivery, reason, detail)
        finally:
            del self._in_flight[delivery.id]
            self._wake.set()

    async def _send(self, clients: dict[str, aiohttp.ClientSession],
                    delivery: DueDelivery) -> tuple[str | None, str | None]:
        """None when delivered, else (reason for the tenant, detail for the log)."""
        body = delivery.payload.encode()
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: delivery.event,
            DELIVERY_HEADER: str(delivery.id),
            TIMESTAMP_HEADER: str(stamp),
            SIGNATURE_HEADER: signature(delivery.secret, str(delivery.id), stamp, body),
        }
        try:
            destination = destination_of(delivery.url)
            # aiohttp connects to a literal address without asking the resolver: vet it here.
            address = literal_address(destination.host)
            if address is not None and not self.policies[destination.scheme].permits(
                    address, destination.port):
                raise Refused(NOT_ALLOWED, f"{destination} is not a public address, not allowed")
            async with clients[destination.scheme].post(
                    delivery.url, data=body, headers=headers, allow_redirects=False) as answer:
                if 200 <= answer.status < 300:
                    return None, None
                if 300 <= answer.status < 400:
                    return REDIRECT, f"HTTP {answer.status} to {answer.headers.get('Location')!r}"
                return f"HTTP {answer.status}", f"HTTP {answer.status}"
        except Refused as exc:
            return exc.reason, exc.detail
        except (aiohttp.ClientSSLError, aiohttp.ClientConnectorCertificateError) as exc:
            return TLS_FAILED, f"{type(exc).__name__}: {exc}"
        except aiohttp.ClientConnectorError as exc:
            # Refused and unknown names read alike: else a tenant could probe internal DNS.
            if isinstance(exc.os_error, DestinationRefused):
                return NOT_ALLOWED, str(exc.os_error)
            if isinstance(exc.os_error, socket.gaierror):
                return NOT_ALLOWED, f"name not resolved: {exc}"
            return CONNECTION_FAILED, f"{type(exc).__name__}: {exc}"
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            return TIMED_OUT, f"no answer within {self.settings.timeout} s ({type(exc).__name__})"
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return CONNECTION_FAILED, f"{type(exc).__name__}: {exc}"

    async def _record(self, delivery: DueDelivery, reason: str | None, detail: str | None) -> None:
        attempts = delivery.attempts + 1
        fields = {"delivery": str(delivery.id), "tenant": str(delivery.tenant_id),
                  "webhook_event": delivery.event, "attempts": attempts}
        try:
            async with self.sessions() as session, session.begin():
                now = self.clock()
                if reason is None:
                    await mark_delivered(session, delivery.id, attempts=attempts, now=now)
                else:
                    await mark_failed(session, delivery.id, attempts=attempts, error=reason,
                                      next_attempt_at=now + retry_delay(attempts))
        except (SQLAlchemyError, OSError) as exc:
            # Not marked: it is due again and sent again (at least once), once the database is back.
            log.warning("webhook_unrecorded", **fields, error=str(exc).splitlines()[0][:200])
            return
        if reason is None:
            log.info("webhook_delivered", **fields)
        else:
            log.warning("webhook_failed", **fields, error=reason, detail=detail,
                        gave_up=attempts >= MAX_ATTEMPTS)
