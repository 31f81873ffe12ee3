"""Wake-ups for waiting callers: "the line may have moved" reaches every node at once, with no polling per call.

On PostgreSQL the signal is a NOTIFY on one channel, and every node LISTENs on it (its
own signals come back the same way, so there is one path). On SQLite the database has one
machine and one daemon: the signal wakes this process's waiting calls directly. Either way a
slow backstop wakes the waiting calls of this node now and then, for what sends no signal (a
wrap-up that ended on another node, an availability expiry, a lost notification while the
database was away). A wake-up only makes a waiting call read the line again; the order and
the claim stay the database's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import psycopg
import structlog
from sqlalchemy import ColumnElement, make_url, select
from sqlalchemy import func as sql_func
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamfoned.routing.model import AttemptResult

log = structlog.get_logger(__name__)

CHANNEL = "teamfoned_line"
# The backstop: a waiting call looks again at least this often, whatever signal was missed.
BACKSTOP_SECONDS = 2.0
# After the LISTEN connection failed, try again this much later (the backstop runs meanwhile).
RELISTEN_SECONDS = 1.0

Waker = Callable[[], None]


def notify_line() -> ColumnElement[Any]:
    """The NOTIFY as an expression (PostgreSQL), for a write that frees a member to send in its
    own statement: delivered when its transaction commits, never for one rolled back."""
    return sql_func.pg_notify(CHANNEL, "")


async def signal_line_in(session: AsyncSession) -> None:
    """The NOTIFY in the session's transaction on PostgreSQL; nothing on SQLite (there the
    process that wrote wakes its own calls: `LineSignals.member_available`)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(notify_line()))


class LineSignals:
    """Who waits on this node, and the one way to tell every node that the line may have moved."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], database_url: str, *,
                 backstop_seconds: float = BACKSTOP_SECONDS) -> None:
        self._sessions = sessions
        parsed = make_url(database_url)
        self._postgres = parsed.drivername.startswith("postgresql")
        self._conninfo = (parsed.set(drivername="postgresql").render_as_string(hide_password=False)
                          if self._postgres else "")
        self._backstop = backstop_seconds
        self._wakers: set[Waker] = set()
        self._send = asyncio.Event()
        self._later: set[asyncio.TimerHandle] = set()
        # Set once run() sends and listens; until then (and on SQLite) wake-ups are local.
        self._running = False

    @property
    def waiting_here(self) -> int:
        """Waiting calls on this node."""
        return len(self._wakers)

    def subscribe(self, waker: Waker) -> None:
        self._wakers.add(waker)

    def unsubscribe(self, waker: Waker) -> None:
        self._wakers.discard(waker)

    def line_moved(self) -> None:
        """A member was freed or came on duty, or a caller left a line: wake waiting calls on
        every node. Never blocks: on PostgreSQL the NOTIFY is sent by run(), coalesced."""
        if self._postgres and self._running:
            self._send.set()
        else:
            self._wake_here()

    def member_freed(self, result: AttemptResult, wrap_up: float) -> None:
        """A member's attempt ended (a Stasis or a FastAGI call): they are free now, or, after an
        answered call, once their wrap-up of `wrap_up` seconds has ended."""
        self.line_moved()
        if result == AttemptResult.ANSWERED and wrap_up > 0:
            self.line_moved_after(wrap_up)

    def member_available(self) -> None:
        """A write in this process made a member available, and has committed.

        On PostgreSQL that write sent its own NOTIFY in its transaction (`notify_line`), which
        reaches this node as it reaches the others; on SQLite this wakes this process's calls.
        """
        if not self._postgres:
            self._wake_here()

    def line_moved_after(self, seconds: float) -> None:
        """line_moved() in `seconds` (a member's wrap-up ends then)."""
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle

        def fire() -> None:
            self._later.discard(handle)
            self.line_moved()

        handle = loop.call_later(seconds, fire)
        self._later.add(handle)

    async def run(self, closing: asyncio.Event) -> None:
        """Send and receive the signals, and run the backstop, until `closing` is set."""
        try:
            async with asyncio.TaskGroup() as tasks:
                self._running = True
                jobs = [tasks.create_task(self._backstop_loop(closing))]
                if self._postgres:
                    jobs.append(tasks.create_task(self._send_loop(closing)))
                    jobs.append(tasks.create_task(self._listen_loop(closing)))
                await closing.wait()
                for job in jobs:
                    job.cancel()
        finally:
            self._running = False
            for handle in self._later:
                handle.cancel()
            self._later.clear()

    def _wake_here(self) -> None:
        for waker in list(self._wakers):
            waker()

    async def _backstop_loop(self, closing: asyncio.Event) -> None:
        while not closing.is_set():
            await asyncio.sleep(self._backstop)
            self._wake_here()

    async def _send_loop(self, closing: asyncio.Event) -> None:
        while not closing.is_set():
            await self._send.wait()
            self._send.clear()
            try:
                async with self._sessions() as session, session.begin():
                    await session.execute(select(notify_line()))
            except (SQLAlchemyError, OSError) as exc:
                # The database is away: this node's callers still hear of it, the others'
                # backstop finds out.
                log.warning("line_signal_not_sent", error=str(exc))
                self._wake_here()

    async def _listen_loop(self, closing: asyncio.Event) -> None:
        while not closing.is_set():
            try:
                connection = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
            except psycopg.Error as exc:
                log.warning("line_listen_failed", error=str(exc))
                await asyncio.sleep(RELISTEN_SECONDS)
                continue
            try:
                await connection.execute(f"LISTEN {CHANNEL}")
                # What moved while this node was not listening is read by every waiting call now.
                self._wake_here()
                async for _notify in connection.notifies():
                    self._wake_here()
            except psycopg.Error as exc:
                log.warning("line_listen_lost", error=str(exc))
                await asyncio.sleep(RELISTEN_SECONDS)
            finally:
                with contextlib.suppress(psycopg.Error):
                    await connection.close()
