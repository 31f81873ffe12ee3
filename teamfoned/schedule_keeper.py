"""Applies members' availability schedules every half minute, as one task of the daemon."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamfoned.store.schedules import apply_schedules

log = structlog.get_logger(__name__)


class ScheduleKeeper:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, clock: Callable[[], datetime],
                 every_seconds: float = 30.0) -> None:
        self.sessions = sessions
        self.clock = clock
        self.every_seconds = every_seconds

    async def apply_once(self) -> int:
        async with self.sessions() as session, session.begin():
            changes = await apply_schedules(session, now=self.clock())
        for change in changes:
            log.info("availability_by_schedule", member=str(change.member_id), available=change.available)
        return len(changes)

    async def run(self, until: asyncio.Event) -> None:
        failing = False
        while not until.is_set():
            try:
                await self.apply_once()
                failing = False
            except (SQLAlchemyError, OSError) as exc:
                # Once per outage, not every round: the next round after it retries.
                if not failing:
                    log.warning("availability_schedule_paused", error=str(exc).splitlines()[0][:200])
                failing = True
            try:
                await asyncio.wait_for(until.wait(), self.every_seconds)
            except TimeoutError:
                pass
