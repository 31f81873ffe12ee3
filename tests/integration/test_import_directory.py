"""Importing the directory file: idempotent, and all-or-nothing when an entry is bad."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from teamfoned.config import RoutingSettings
from teamfoned.directory import DirectoryError, import_directory
from teamfoned.domain.members import PhonePolicy
from teamfoned.store.engine import create_engine, create_sessionmaker
from teamfoned.store.routing_repo import RoutingRepository
from teamfoned.store.tables import members, memberships, team_numbers, teams, tenants

DIRECTORY = {
    "tenants": [{
        "name": "practice",
        "retention_days": 60,
        "endpoints": ["desk-101"],
        "members": [
            {"name": "Alice", "phone": "+31612345678", "available": True},
            {"name": "Bob", "phone": "+31201234567", "admin": True},
            {"name": "Desk", "phone": "desk-101"},
        ],
        "teams": [{
            "name": "reception",
            "label": "Reception",
            "strategy": "linear",
            "ring_time": 15,
            "fallback": {"kind": "dialplan", "target": "teamfoned-fallback,s,1"},
            "numbers": ["+31207654321"],
            "members": [{"name": "Alice", "priority": 1}, {"name": "Bob", "priority": 2}],
        }],
    }],
}
POLICY = PhonePolicy(("NL",))


@pytest.fixture
async def engine(migrated_db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(migrated_db_url)
    yield eng
    await eng.dispose()


async def run_import(engine: AsyncEngine, raw: object) -> list[str]:
    async with create_sessionmaker(engine)() as session, session.begin():
        return await import_directory(session, raw, phones=POLICY, defaults=RoutingSettings())


async def counts(engine: AsyncEngine) -> tuple[int, ...]:
    async with engine.connect() as conn:
        return tuple([await conn.scalar(select(func.count()).select_from(t))
                      for t in (tenants, teams, team_numbers, members, memberships)])


async def test_import_twice_changes_nothing_the_second_time(engine: AsyncEngine) -> None:
    first = await run_import(engine, DIRECTORY)
    assert "tenant practice: created" in first
    assert await counts(engine) == (1, 1, 1, 3, 2)
    assert await run_import(engine, DIRECTORY) == []
    route = await RoutingRepository(engine).team_for_number("+31207654321")
    assert route is not None and (route.strategy, route.ring_time) == ("linear", 15.0)


async def test_import_updates_and_removes_what_the_file_no_longer_has(engine: AsyncEngine) -> None:
    await run_import(engine, DIRECTORY)
    changed = copy.deepcopy(DIRECTORY)
    tenant = changed["tenants"][0]
    tenant["members"] = [m for m in tenant["members"] if m["name"] != "Desk"]
    tenant["teams"][0]["members"] = [{"name": "Alice", "priority": 5}]
    tenant["teams"][0]["strategy"] = "round_robin"
    done = await run_import(engine, changed)
    assert "tenant practice: member Desk removed" in done
    assert "tenant practice: team reception: Bob left" in done
    assert await counts(engine) == (1, 1, 1, 2, 1)
    assert await run_import(engine, changed) == []


async def test_a_bad_phone_means_nothing_is_written(engine: AsyncEngine) -> None:
    bad = copy.deepcopy(DIRECTORY)
    bad["tenants"][0]["members"].append({"name": "Mallory", "phone": "+319001234567"})
    bad["tenants"][0]["teams"][0]["strategy"] = "foo"
    with pytest.raises(DirectoryError) as info:
        await run_import(engine, bad)
    text = "\n".join(info.value.problems)
    assert "member Mallory.phone: phone refused" in text and "premium rate" in text
    assert "team reception.strategy: unknown strategy 'foo'" in text
    assert await counts(engine) == (0, 0, 0, 0, 0)


async def test_problems_that_only_the_database_shows_roll_everything_back(
    engine: AsyncEngine,
) -> None:
    await run_import(engine, DIRECTORY)
    other = {"tenants": [{"name": "other", "teams": [{"name": "t", "numbers": ["+31207654321"]}]}]}
    with pytest.raises(DirectoryError, match="belongs to another team"):
        await run_import(engine, other)
    assert await counts(engine) == (1, 1, 1, 3, 2)
