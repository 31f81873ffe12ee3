"""The routing directory on SQLite and PostgreSQL: every writer's change reaches it, the round-robin position never comes from it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from teamfoned.store.engine import create_engine
from teamfoned.store.routing_directory import RoutingDirectory
from teamfoned.store.routing_repo import RoutingRepository
from teamfoned.store.tables import directory_version, team_holidays, team_hours, team_numbers, teams

from .test_store_routing import engine, seed  # noqa: F401  (engine: the fixture, shared)

NUMBER = "+31201234567"


@pytest.fixture
async def directory(engine: AsyncEngine) -> AsyncIterator[RoutingDirectory]:  # noqa: F811
    # A separate engine, as a daemon has: the test's writes come from "another node".
    own = create_engine(engine.url.render_as_string(hide_password=False))
    # The backstop is kept out of the way: what this shows is the signal itself.
    found = RoutingDirectory(own, check_every=3600)
    closing = asyncio.Event()
    task = asyncio.create_task(found.run(closing))
    yield found
    closing.set()
    await task
    await own.dispose()


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """SQLite sees a change at the next lookup; PostgreSQL once the notification is in."""
    async with asyncio.timeout(10):
        while not await check():
            await asyncio.sleep(0.01)


async def version(engine: AsyncEngine) -> int:  # noqa: F811
    async with engine.connect() as conn:
        return (await conn.execute(select(directory_version.c.version))).scalar_one()


async def test_a_write_elsewhere_reaches_the_directory(engine: AsyncEngine, directory: RoutingDirectory) -> None:  # noqa: F811
    s = await seed(engine)
    if engine.dialect.name == "postgresql":
        await until(lambda: _routed(directory))  # the seed's own notification
    repo = RoutingRepository(directory._engine, directory=directory)
    route = await repo.team_for_number(NUMBER)
    assert route is not None and route.ring_time == 20.0
    loads = directory.loads

    async with engine.begin() as conn:
        await conn.execute(update(teams).where(teams.c.id == s.team_id).values(ring_time_s=7, strategy="random"))
    if engine.dialect.name == "sqlite":
        assert (await repo.team_for_number(NUMBER)).ring_time == 7.0  # the very next lookup
    await until(lambda: _ring_time_is(repo, 7.0))
    assert (await repo.team_for_number(NUMBER)).strategy == "random"

    async with engine.begin() as conn:
        await conn.execute(insert(team_numbers).values(number="+31201110000", tenant_id=s.tenant_id,
                                                       team_id=s.team_id))
        await conn.execute(insert(team_hours).values(id=uuid.uuid4(), tenant_id=s.tenant_id, team_id=s.team_id,
                                                     weekday=0, opens="08:00", closes="17:00"))
        await conn.execute(insert(team_holidays).values(id=uuid.uuid4(), tenant_id=s.tenant_id,
                                                        team_id=s.team_id, day=date(2030, 5, 7)))
    await until(lambda: _has_number(repo, "+31201110000"))
    periods, holidays = await repo.opening_hours(s.team_id, date(2030, 5, 6))
    assert [(p.weekday, p.starts, p.ends) for p in periods] == [(0, "08:00", "17:00")]
    assert holidays == {date(2030, 5, 7)}
    assert (await repo.opening_hours(s.team_id, date(2030, 5, 20)))[1] == set()
    assert await repo.team_number(s.tenant_id, "desk") == "+31201110000"  # the lowest
    assert directory.loads > loads

    async with engine.begin() as conn:
        await conn.execute(team_numbers.delete().where(team_numbers.c.number == "+31201110000"))
    await until(lambda: _has_number(repo, "+31201110000", present=False))


async def test_the_round_robin_position_is_read_per_call_and_changes_nothing(
        engine: AsyncEngine, directory: RoutingDirectory) -> None:  # noqa: F811
    s = await seed(engine)
    async with engine.begin() as conn:
        await conn.execute(update(teams).where(teams.c.id == s.team_id).values(strategy="round_robin"))
    repo = RoutingRepository(directory._engine, directory=directory)
    await until(lambda: _strategy_is(repo, "round_robin"))
    before = await version(engine)
    await until(lambda: _loaded_at(repo, directory, before))  # settled: no signal in flight
    loads = directory.loads
    # Another node's call moved the position: this node's next call starts from there.
    await RoutingRepository(engine).save_rr_position(s.team_id, 3)
    assert (await repo.team_for_number(NUMBER)).rr_position == 3
    assert await version(engine) == before  # no reload on every node after each call
    assert directory.loads == loads


async def test_every_team_column_but_the_round_robin_position_signals(engine: AsyncEngine) -> None:  # noqa: F811
    s = await seed(engine)
    for column in teams.columns:
        before = await version(engine)
        async with engine.begin() as conn:
            await conn.execute(update(teams).where(teams.c.id == s.team_id).values({column.name: column}))
        moved = await version(engine) > before
        # A new team setting must join the triggers' column list (migration 0009), or a
        # change of it would not reach the daemons.
        assert moved == (column.name != "rr_position"), column.name


async def _routed(directory: RoutingDirectory) -> bool:
    return await directory.route(NUMBER) is not None


async def _ring_time_is(repo: RoutingRepository, seconds: float) -> bool:
    route = await repo.team_for_number(NUMBER)
    return route is not None and route.ring_time == seconds


async def _strategy_is(repo: RoutingRepository, strategy: str) -> bool:
    route = await repo.team_for_number(NUMBER)
    return route is not None and route.strategy == strategy


async def _has_number(repo: RoutingRepository, number: str, *, present: bool = True) -> bool:
    return (await repo.team_for_number(number) is not None) == present


async def _loaded_at(repo: RoutingRepository, directory: RoutingDirectory, at: int) -> bool:
    await repo.team_for_number(NUMBER)
    return directory.freshness.version == at and not directory.freshness.stale
