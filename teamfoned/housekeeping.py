"""The daemon's chores on a timer: purge expired call history once at start, then every `purge_every_hours`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamfoned.store.retention import Purged, purge_expired

log = structlog.get_logger(__name__)


async def purge_once(sessions: async_sessionmaker[AsyncSession], now: datetime) -> list[Purged]:
    async with sessions() as session, session.begin():
        report = await purge_expired(session, now=now)
    for tenant in report:
        if tenant.calls or tenant.deliveries:
            log.info("call_history_purged", tenant=tenant.tenant, calls=tenant.calls,
                     attempts=tenant.attempts, webhook_deliveries=tenant.deliveries,
                     retention_days=tenant.retention_days)
    return report


class Housekeeping:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, clock: Callable[[], datetime],
                 every_seconds: float) -> None:
        self.sessions = sessions
        self.clock = clock
        self.every_seconds = every_seconds
        self.last_purge: datetime | None = None

    async def run(self, until: asyncio.Event) -> None:
        """Purge now and then on every period until `until` is set; a failed purge is retried next time."""
        while not until.is_set():
            try:
                await purge_once(self.sessions, self.clock())
                self.last_purge = self.clock()
            except SQLAlchemyError as exc:
                # The database may be briefly away; the daemon keeps routing calls meanwhile.
                log.warning("call_history_purge_failed", error=str(exc))
            try:
                await asyncio.wait_for(until.wait(), self.every_seconds)
            except TimeoutError:
                pass
