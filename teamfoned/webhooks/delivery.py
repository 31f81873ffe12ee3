"""Delivers the webhook outbox: signed POSTs, retried with capped backoff, never in the call path.

Runs as one task of the daemon. A delivery is marked done only after a 2xx answer, so a
crash between sending and marking sends it again: receivers get each event at least once
and can tell repeats apart by the delivery id header.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import structlog
from sqlalchemy import Row, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamfoned.store.tables import webhook_deliveries, webhooks
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
BATCH = 50


def retry_delay(attempts: int) -> timedelta:
    """2 s, 4 s, 8 s ... capped at one hour."""
    return timedelta(seconds=min(3600, 2 ** max(1, attempts)))


class WebhookSender:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, clock: Callable[[], datetime],
                 interval: float = 1.0, timeout: float = 10.0) -> None:
        self.sessions = sessions
        self.clock = clock
        self.interval = interval
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    async def run(self) -> None:
        """Send what is due, then sleep a little; until cancelled."""
        async with aiohttp.ClientSession(timeout=self.timeout) as http:
            failing = False
            while True:
                try:
                    await self.send_due(http)
                    if failing:
                        log.info("webhook_rounds_resumed")
                    failing = False
                except (SQLAlchemyError, OSError) as exc:
                    # The database is away (the daemon keeps routing from its journal): say so
                    # once, not every second; the outbox waits for it.
                    if not failing:
                        log.warning("webhook_rounds_paused", error=str(exc).splitlines()[0][:200])
                    failing = True
                await asyncio.sleep(self.interval)

    async def send_due(self, http: aiohttp.ClientSession) -> int:
        now = self.clock()
        async with self.sessions() as session:
            due = (await session.execute(
                select(webhook_deliveries.c.id, webhook_deliveries.c.event, webhook_deliveries.c.payload,
                       webhook_deliveries.c.attempts, webhooks.c.url, webhooks.c.secret)
                .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
                .where(webhook_deliveries.c.delivered_at.is_(None),
                       webhook_deliveries.c.next_attempt_at <= now,
                       webhook_deliveries.c.attempts < MAX_ATTEMPTS)
                .order_by(webhook_deliveries.c.next_attempt_at)
                .limit(BATCH)
            )).all()
        for row in due:
            await self._deliver(http, row)
        return len(due)

    async def _deliver(self, http: aiohttp.ClientSession, row: Row[*tuple[Any, ...]]) -> None:
        body = row.payload.encode()
        stamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            EVENT_HEADER: row.event,
            DELIVERY_HEADER: str(row.id),
            TIMESTAMP_HEADER: str(stamp),
            SIGNATURE_HEADER: signature(row.secret, stamp, body),
        }
        error: str | None = None
        try:
            async with http.post(row.url, data=body, headers=headers, allow_redirects=False) as answer:
                if not 200 <= answer.status < 300:
                    error = f"HTTP {answer.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = type(exc).__name__
        now = self.clock()
        values: dict[str, Any]
        if error is None:
            values = {"delivered_at": now, "attempts": row.attempts + 1, "last_error": None}
            log.info("webhook_delivered", delivery=str(row.id), webhook_event=row.event)
        else:
            attempts = row.attempts + 1
            values = {"attempts": attempts, "last_error": error[:300],
                      "next_attempt_at": now + retry_delay(attempts)}
            log.warning("webhook_failed", delivery=str(row.id), webhook_event=row.event,
                        attempts=attempts, error=error, gave_up=attempts >= MAX_ATTEMPTS)
        async with self.sessions() as session, session.begin():
            await session.execute(update(webhook_deliveries)
                                  .where(webhook_deliveries.c.id == row.id).values(**values))
