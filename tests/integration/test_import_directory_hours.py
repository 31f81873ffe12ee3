"""Importing opening hours, holidays, the closed fallback, auto-unavailable and member schedules.

Idempotent, all-or-nothing with every bad entry listed, and what the file leaves out is cleared.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from teamfoned.config import RoutingSettings
from teamfoned.directory import DirectoryError, import_directory
from teamfoned.domain.members import PhonePolicy
from teamfoned.store.engine import create_engine, create_sessionmaker
from teamfoned.store.routing_repo import RoutingRepository
from teamfoned.store.tables import (
    availability_schedules,
    team_holidays,
    team_hours,
    teams,
    tenants,
)

DIRECTORY = {
    "tenants": [{
        "name": "practice",
        "members": [
            {"name": "Alice", "phone": "+31612345678",
             "schedule": {"timezone": "Europe/Amsterdam", "periods": ["mon-fri 08:00-17:00"]}},
            {"name": "Bob", "phone": "+31201234567"},
        ],
        "teams": [{
            "name": "reception",
            "timezone": "Europe/Amsterdam",
            "closed": {"kind": "announce", "target": "closed-message"},
            "auto_unavailable_after": 3,
            "confirm_recording": "reception-call",
            "hours": ["mon-fri 08:00-12:00,13:00-17:00", "sat 10:00-12:00"],
            "holidays": [{"date": date(2030, 12, 25), "name": "Christmas"}, "2030-12-26"],
            "numbers": ["+31207654321"],
            "members": ["Alice", "Bob"],
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


async def count(engine: AsyncEngine, table) -> int:
    async with engine.connect() as conn:
        return await conn.scalar(select(func.count()).select_from(table))


async def test_import_sets_everything_and_a_second_import_changes_nothing(
    engine: AsyncEngine,
) -> None:
    first = await run_import(engine, DIRECTORY)
    where = "tenant practice: team reception"
    assert (f"{where} opening hours set to mon-fri 08:00-12:00,13:00-17:00, sat 10:00-12:00"
            in first)
    assert f"{where} holiday 2030-12-25 added (Christmas)" in first
    assert f"{where} holiday 2030-12-26 added" in first
    assert ("tenant practice: member Alice schedule set to mon-fri 08:00-17:00 "
            "(Europe/Amsterdam)") in first
    assert await run_import(engine, DIRECTORY) == []

    route = await RoutingRepository(engine).team_for_number("+31207654321")
    assert route is not None
    assert (route.timezone, route.closed_kind, route.closed_target, route.auto_unavailable_after,
            route.confirm_recording) == ("Europe/Amsterdam", "announce", "closed-message",
                                         3, "reception-call")
    periods, holidays = await RoutingRepository(engine).opening_hours(route.team_id,
                                                                      date(2030, 12, 25))
    assert len(periods) == 11 and date(2030, 12, 25) in holidays
    assert await count(engine, team_hours) == 11
    assert await count(engine, availability_schedules) == 5


async def test_what_the_file_leaves_out_is_cleared(engine: AsyncEngine) -> None:
    await run_import(engine, DIRECTORY)
    changed = copy.deepcopy(DIRECTORY)
    team = changed["tenants"][0]["teams"][0]
    for key in ("timezone", "closed", "auto_unavailable_after", "confirm_recording", "hours"):
        del team[key]
    team["holidays"] = [{"date": "2030-12-25", "name": "Xmas"}, "2031-01-01"]
    del changed["tenants"][0]["members"][0]["schedule"]
    done = await run_import(engine, changed)
    where = "tenant practice: team reception"
    assert f"{where} settings updated" in done
    assert f"{where} opening hours cleared (always open)" in done
    assert f"{where} holiday 2030-12-26 removed" in done
    assert f"{where} holiday 2030-12-25 renamed (Xmas)" in done
    assert f"{where} holiday 2031-01-01 added" in done
    assert "tenant practice: member Alice schedule cleared" in done
    assert await run_import(engine, changed) == []
    async with engine.connect() as conn:
        row = (await conn.execute(select(teams))).one()
    assert (row.timezone, row.closed_kind, row.closed_target, row.auto_unavailable_after,
            row.confirm_recording) == ("UTC", None, None, None, None)
    assert await count(engine, team_hours) == 0
    assert await count(engine, team_holidays) == 2
    assert await count(engine, availability_schedules) == 0


async def test_zero_and_a_plain_dialplan_kind_mean_off_and_the_shipped_context(
    engine: AsyncEngine,
) -> None:
    changed = copy.deepcopy(DIRECTORY)
    team = changed["tenants"][0]["teams"][0]
    team["auto_unavailable_after"] = 0
    team["closed"] = {"kind": "number", "target": 31201234599}  # YAML's reading of +31...
    await run_import(engine, changed)
    async with engine.connect() as conn:
        row = (await conn.execute(select(teams))).one()
    assert (row.auto_unavailable_after, row.closed_kind, row.closed_target) == (
        None, "number", "31201234599")
    team["closed"] = {"kind": "dialplan"}
    assert await run_import(engine, changed) == ["tenant practice: team reception settings updated"]
    async with engine.connect() as conn:
        row = (await conn.execute(select(teams))).one()
    assert (row.closed_kind, row.closed_target) == (None, None)


async def test_every_bad_entry_is_listed_with_its_place_and_nothing_is_written(
    engine: AsyncEngine,
) -> None:
    bad = copy.deepcopy(DIRECTORY)
    tenant = bad["tenants"][0]
    tenant["members"][0]["schedule"] = {"periods": ["mon-fri 08:00-17:00", "wed 16:00-18:00"]}
    tenant["members"][1]["schedule"] = {"timezone": "Mars/Base", "periods": ["mon-fry 08:00-17:00"],
                                        "extra": 1}
    team = tenant["teams"][0]
    team["timezone"] = "Europe/Amsterdm"
    team["closed"] = {"kind": "team"}
    team["auto_unavailable_after"] = 101
    team["confirm_recording"] = "no spaces.wav"
    team["hours"] = ["mon-fri 08:00-17:00", "sat", "sun 18:00-09:00", "tue 25:00-26:00"]
    team["holidays"] = ["2030-02-30", {"date": "2030-12-25", "name": ""},
                        {"date": datetime(2030, 12, 24, 12, 0)},  # noqa: DTZ001 - a naive time is the bad input
                        {"day": "2030-12-31"},
                        "2030-12-26", "2030-12-26"]
    with pytest.raises(DirectoryError) as info:
        await run_import(engine, bad)
    problems = info.value.problems
    m, t = "tenant practice.member", "tenant practice.team reception"
    expected = [
        f"{m} Alice.schedule.periods: wed 08:00-17:00 overlaps wed 16:00-18:00",
        f"{m} Alice.schedule.timezone: a schedule needs a time zone",
        f"{m} Bob.schedule.extra: unknown key",
        f"{m} Bob.schedule.periods[0]: 'mon-fry 08:00-17:00': 'fry' is not a day",
        f"{m} Bob.schedule.timezone: 'Mars/Base' is not an IANA time zone name",
        f"{t}.closed: None is not a team name",
        f"{t}.timezone: 'Europe/Amsterdm' is not an IANA time zone name",
        f"{t}.auto_unavailable_after: must be unanswered calls in a row from 1 to 100",
        f"{t}.confirm_recording: 'no spaces.wav' is not a sound name",
        f"{t}.hours[1]: 'sat': expected days and times",
        f"{t}.hours[2]: 'sun 18:00-09:00': 18:00-09:00 ends before it starts",
        f"{t}.hours[3]: 'tue 25:00-26:00': '25:00' is not a time of day",
        f"{t}.holidays[0]: '2030-02-30' is not a date YYYY-MM-DD",
        f"{t}.holidays[1]: a holiday name must be text",
        f"{t}.holidays[2]: datetime.datetime(2030, 12, 24, 12, 0) is not a date",
        f"{t}.holidays[3].day: unknown key",
        f"{t}.holidays[5]: 2030-12-26 is listed twice",
    ]
    for text in expected:
        assert any(p.startswith(text) for p in problems), (text, problems)
    assert len(problems) == len(expected) + 1  # holidays[3] also has no date
    for table in (tenants, teams, team_hours, team_holidays, availability_schedules):
        assert await count(engine, table) == 0
