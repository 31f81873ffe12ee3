"""The routing directory: numbers, team settings, opening hours and holidays in memory, reloaded when the database says they changed.

Loaded whole at start. Every write of the cached tables bumps `directory_version` (triggers,
migration 0009), whoever makes it. On PostgreSQL the same triggers send a notification,
which a LISTEN connection turns into "stale" before the next lookup; the version is also
compared every `check_every` seconds, and a lost LISTEN connection means a full reload (a
notification sent meanwhile is lost). On SQLite, before each lookup, `PRAGMA data_version`
on the directory's own connection tells whether any other connection (this process's
included: the directory's connection never writes) committed anything; only then is the
version read. What changes per call (a team's round-robin position) is never served from
here: the repository reads it from the database, as it does availability and claims.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from teamfoned.domain.timetable import stored_periods
from teamfoned.routing.hours import WeeklyPeriod
from teamfoned.routing.model import TeamRoute
from teamfoned.store.tables import directory_version, team_holidays, team_hours, team_numbers, teams

log = structlog.get_logger(__name__)

CHANNEL = "teamfoned_directory"  # the channel migration 0009's triggers notify

# The columns a TeamRoute is made of, in its field order (the repository's uncached lookup
# reads the same).
ROUTE_COLUMNS = (
    teams.c.tenant_id, teams.c.id, teams.c.name, teams.c.label, teams.c.strategy,
    teams.c.ring_time_s, teams.c.max_wait_s, teams.c.wrap_up_s, teams.c.confirm_calls,
    teams.c.fallback_kind, teams.c.fallback_target, teams.c.rr_position, teams.c.timezone,
    teams.c.closed_kind, teams.c.closed_target, teams.c.auto_unavailable_after,
    teams.c.confirm_recording, teams.c.wait_when_none_available, teams.c.announce_position_every,
    teams.c.language, teams.c.next_tier_after, teams.c.waiting_sound, teams.c.moh_class,
    teams.c.greeting, teams.c.announce_expected_wait, teams.c.callback_key,
    teams.c.callback_attempts, teams.c.callback_retry_after,
)


def route_from_row(row: Any) -> TeamRoute:
    return TeamRoute(
        tenant_id=row[0], team_id=row[1], team_name=row[2], label=row[3], strategy=row[4],
        ring_time=float(row[5]), max_wait=float(row[6]), wrap_up=float(row[7]),
        confirm_calls=bool(row[8]), fallback_kind=row[9], fallback_target=row[10],
        rr_position=row[11], timezone=row[12], closed_kind=row[13], closed_target=row[14],
        auto_unavailable_after=row[15], confirm_recording=row[16],
        wait_when_none_available=bool(row[17]), announce_position_every=row[18],
        language=row[19] or "en", next_tier_after=row[20], waiting_sound=row[21] or "ringing",
        moh_class=row[22], greeting=row[23], announce_expected_wait=bool(row[24]),
        callback_key=row[25] or None, callback_attempts=int(row[26]),
        callback_retry_after=int(row[27]),
    )


class Freshness:
    """Whether the loaded directory may be served: no I/O, so the rules are tested alone.

    A signal (notification, lost listener) that comes in while a load runs leaves the
    directory stale after that load: the load may have read the tables before the change.
    """

    def __init__(self) -> None:
        self.version: int | None = None  # the version the loaded directory was read at
        self._signals = 0
        self._signals_at_load = -1  # nothing loaded yet

    @property
    def stale(self) -> bool:
        return self.version is None or self._signals != self._signals_at_load

    def signalled(self) -> None:
        """Something changed (or may have, unseen): reload before the next lookup."""
        self._signals += 1

    def load_starting(self) -> int:
        return self._signals

    def loaded(self, version: int, signals_at_start: int) -> None:
        self.version = version
        self._signals_at_load = signals_at_start

    def notified(self, payload: str) -> None:
        """A notification carries the version its change made: one this load already read
        (sent before the load, delivered after it) changes nothing."""
        try:
            version = int(payload)
        except ValueError:
            self.signalled()  # not ours to read: reload to be safe
            return
        if self.version is None or version > self.version:
            self.signalled()

    def version_seen(self, version: int) -> None:
        """The database's version, read now: a difference means a change this node missed."""
        if version != self.version:
            self.signalled()


@dataclass(frozen=True)
class Snapshot:
    routes: dict[str, TeamRoute] = field(default_factory=dict)  # canonical number -> route
    numbers: dict[tuple[uuid.UUID, str], str] = field(default_factory=dict)  # (tenant, team name) -> lowest
    periods: dict[uuid.UUID, list[WeeklyPeriod]] = field(default_factory=dict)
    holidays: dict[uuid.UUID, frozenset[date]] = field(default_factory=dict)


class RoutingDirectory:
    """What every call of this daemon looks up before it rings anyone, from memory."""

    def __init__(self, engine: AsyncEngine, *, check_every: float = 5.0, retry_every: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self.check_every = check_every
        self.retry_every = retry_every
        self._monotonic = monotonic
        self.freshness = Freshness()
        self._snapshot = Snapshot()
        self._loading = asyncio.Lock()
        self._sqlite_conn: AsyncConnection | None = None
        self._data_version: int | None = None
        self.loads = 0  # full loads so far (the tests and the logs read it)

    # -- lookups -----------------------------------------------------------------------------

    async def route(self, canonical_number: str) -> TeamRoute | None:
        return (await self._current()).routes.get(canonical_number)

    async def team_number(self, tenant_id: uuid.UUID, team_name: str) -> str | None:
        return (await self._current()).numbers.get((tenant_id, team_name))

    async def opening_hours(self, team_id: uuid.UUID, around: date) -> tuple[list[WeeklyPeriod], set[date]]:
        snapshot = await self._current()
        near = {day for day in snapshot.holidays.get(team_id, ()) if abs((day - around).days) <= 1}
        return list(snapshot.periods.get(team_id, ())), near

    async def _current(self) -> Snapshot:
        if self._sqlite:
            # One connection for the check and the load: one lookup at a time on it.
            async with self._loading:
                await self._check_sqlite()
                if self.freshness.stale:
                    await self._load()
        elif self.freshness.stale:
            async with self._loading:
                if self.freshness.stale:  # else another lookup loaded it while this one waited
                    await self._load()
        return self._snapshot

    # -- loading -----------------------------------------------------------------------------

    async def load(self) -> None:
        """Read the whole directory (at start; lookups reload by themselves when it is stale)."""
        async with self._loading:
            await self._load()

    async def _load(self) -> None:
        # The version first, so a change made during the read shows as a newer version at the
        # next check (and the directory is read again then).
        signals = self.freshness.load_starting()
        if self._sqlite:
            snapshot, version = await self._read(await self._sqlite_connection())
        else:
            async with self._engine.connect() as conn:
                snapshot, version = await self._read(conn)
        self._snapshot = snapshot
        self.freshness.loaded(version, signals)
        self.loads += 1
        log.info("routing_directory_loaded", version=version, numbers=len(snapshot.routes), loads=self.loads)

    async def _read(self, conn: AsyncConnection) -> tuple[Snapshot, int]:
        version = (await conn.execute(select(directory_version.c.version))).scalar_one_or_none() or 0
        routes: dict[str, TeamRoute] = {}
        numbers: dict[tuple[uuid.UUID, str], str] = {}
        rows = await conn.execute(select(team_numbers.c.number, *ROUTE_COLUMNS)
                                  .join(teams, team_numbers.c.team_id == teams.c.id)
                                  .order_by(team_numbers.c.number))
        for number, *columns in rows:
            route = route_from_row(columns)
            routes[number] = route
            numbers.setdefault((route.tenant_id, route.team_name), number)  # the lowest
        hours: dict[uuid.UUID, list[tuple[int, str, str]]] = {}
        for team_id, weekday, opens, closes in await conn.execute(
                select(team_hours.c.team_id, team_hours.c.weekday, team_hours.c.opens, team_hours.c.closes)):
            hours.setdefault(team_id, []).append((weekday, opens, closes))
        holidays: dict[uuid.UUID, set[date]] = {}
        for team_id, day in await conn.execute(select(team_holidays.c.team_id, team_holidays.c.day)):
            holidays.setdefault(team_id, set()).add(day)
        if self._sqlite:
            await conn.commit()  # no read transaction left open on the directory's connection
        return Snapshot(routes, numbers, {team: stored_periods(rows) for team, rows in hours.items()},
                        {team: frozenset(days) for team, days in holidays.items()}), int(version)

    # -- SQLite: a cheap check before each lookup ---------------------------------------------

    async def _sqlite_connection(self) -> AsyncConnection:
        if self._sqlite_conn is None:
            self._sqlite_conn = await self._engine.execution_options(isolation_level="AUTOCOMMIT").connect()
        return self._sqlite_conn

    async def _check_sqlite(self) -> None:
        conn = await self._sqlite_connection()
        data_version = (await conn.exec_driver_sql("PRAGMA data_version")).scalar_one()
        if data_version == self._data_version:
            return  # nobody committed anything since the last check
        self._data_version = data_version
        version = (await conn.execute(select(directory_version.c.version))).scalar_one_or_none() or 0
        self.freshness.version_seen(int(version))

    # -- PostgreSQL: notifications, and the version check as a backstop ------------------------

    async def run(self, closing: asyncio.Event) -> None:
        """Keep the directory current until `closing` is set (PostgreSQL; SQLite checks per lookup)."""
        try:
            if not self._sqlite:
                async with asyncio.TaskGroup() as tg:
                    # Cancelled at `closing`: a wait for notifications would hold the stop.
                    listening = tg.create_task(self._keep_listening(), name="directory-listen")
                    await closing.wait()
                    listening.cancel()
            else:
                await closing.wait()
        finally:
            if self._sqlite_conn is not None:
                await self._sqlite_conn.close()
                self._sqlite_conn = None

    async def _keep_listening(self) -> None:
        while True:
            try:
                await self._listen()
            except Exception as exc:
                # Notifications sent while nobody listened are lost: reload in full.
                self.freshness.signalled()
                log.warning("routing_directory_listen_lost", error=repr(exc)[:300])
                await asyncio.sleep(self.retry_every)

    async def _listen(self) -> None:
        import psycopg  # only on PostgreSQL, whose driver it is

        url = make_url(self._engine.url.render_as_string(hide_password=False)).set(drivername="postgresql")
        async with await psycopg.AsyncConnection.connect(
                url.render_as_string(hide_password=False), autocommit=True) as conn:
            await conn.execute(f"LISTEN {CHANNEL}")
            # Changes made before LISTEN took effect were not notified: compare versions now.
            await self._check_version()
            while True:
                async for notification in conn.notifies(timeout=self.check_every, stop_after=1):
                    self.freshness.notified(notification.payload)
                    break
                else:
                    # A quiet period: the backstop, in case a notification went astray.
                    await self._check_version()

    async def _check_version(self) -> None:
        # Autocommit: one round trip, no BEGIN/ROLLBACK around the one read.
        async with self._engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
            version = (await conn.execute(select(directory_version.c.version))).scalar_one_or_none() or 0
        self.freshness.version_seen(int(version))
