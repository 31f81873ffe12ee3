"""Opening hours and holidays of teams, availability schedules of members, by id; checked by the domain's rules before written."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.domain.errors import NotFound
from teamfoned.domain.timetable import (
    check_day,
    check_holiday_name,
    check_periods,
    check_schedule,
    stored_periods,
)
from teamfoned.routing.hours import WeeklyPeriod
from teamfoned.store.directory_repo import team_row
from teamfoned.store.engine import changed_rows
from teamfoned.store.members_repo import member_exists
from teamfoned.store.tables import availability, availability_schedules, team_holidays
from teamfoned.store.tables import team_hours as team_hours_table

# -- opening hours -----------------------------------------------------------------------------

async def hours_of(session: AsyncSession, team_id: uuid.UUID) -> list[WeeklyPeriod]:
    """The team's opening hours (none: always open), for a team the caller already holds."""
    return stored_periods((await session.execute(
        select(team_hours_table.c.weekday, team_hours_table.c.opens, team_hours_table.c.closes)
        .where(team_hours_table.c.team_id == team_id))).all())


async def team_hours(session: AsyncSession, tenant_id: uuid.UUID,
                     team_id: uuid.UUID) -> tuple[str, list[WeeklyPeriod]]:
    """The team's time zone and opening hours (none: always open)."""
    row = await team_row(session, tenant_id, team_id)
    return row.timezone or "UTC", await hours_of(session, team_id)


async def replace_team_hours(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                             periods: Iterable[WeeklyPeriod]) -> bool:
    """Make the team's opening hours exactly `periods` (none: always open); False if they were."""
    await team_row(session, tenant_id, team_id)
    wanted = check_periods(periods)
    if await hours_of(session, team_id) == wanted:
        return False
    await session.execute(delete(team_hours_table).where(team_hours_table.c.team_id == team_id))
    if wanted:
        await session.execute(insert(team_hours_table), [
            {"id": uuid.uuid4(), "tenant_id": tenant_id, "team_id": team_id, "weekday": p.weekday,
             "opens": p.starts, "closes": p.ends} for p in wanted])
    return True


# -- holidays ----------------------------------------------------------------------------------

async def holidays_of(session: AsyncSession, team_id: uuid.UUID) -> dict[date, str | None]:
    """The team's holidays by day, oldest first, for a team the caller already holds."""
    return dict((await session.execute(
        select(team_holidays.c.day, team_holidays.c.name)
        .where(team_holidays.c.team_id == team_id).order_by(team_holidays.c.day))).all())


async def holidays(session: AsyncSession, tenant_id: uuid.UUID,
                   team_id: uuid.UUID) -> list[tuple[date, str | None]]:
    await team_row(session, tenant_id, team_id)
    return list((await holidays_of(session, team_id)).items())


async def add_holiday(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                      day: date, name: str | None) -> bool:
    """Close the team all day; a day that already is a holiday is only renamed. True when new.

    Scripts can so add the same holidays every year safely.
    """
    await team_row(session, tenant_id, team_id)
    day, name = check_day(day), check_holiday_name(name)
    have = await holidays_of(session, team_id)
    if day in have:
        if name is not None and have[day] != name:
            await rename_holiday(session, tenant_id, team_id, day, name)
        return False
    await session.execute(insert(team_holidays).values(
        id=uuid.uuid4(), tenant_id=tenant_id, team_id=team_id, day=day, name=name))
    return True


async def rename_holiday(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                         day: date, name: str | None) -> None:
    """Give a holiday a name, or with None take it away."""
    await team_row(session, tenant_id, team_id)
    day, name = check_day(day), check_holiday_name(name)
    done = await changed_rows(session, update(team_holidays).where(
        team_holidays.c.team_id == team_id, team_holidays.c.day == day).values(name=name))
    if done == 0:
        raise NotFound("holiday")


async def remove_holiday(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                         day: date) -> None:
    await team_row(session, tenant_id, team_id)
    done = await changed_rows(session, delete(team_holidays).where(
        team_holidays.c.team_id == team_id, team_holidays.c.day == check_day(day)))
    if done == 0:
        raise NotFound("holiday")


# -- availability schedules --------------------------------------------------------------------

async def _schedule_of(session: AsyncSession,
                       member_id: uuid.UUID) -> tuple[list[WeeklyPeriod], str | None]:
    rows = (await session.execute(
        select(availability_schedules.c.weekday, availability_schedules.c.starts,
               availability_schedules.c.ends, availability_schedules.c.timezone)
        .where(availability_schedules.c.member_id == member_id))).all()
    zones = sorted({r.timezone for r in rows})
    return stored_periods((r[0], r[1], r[2]) for r in rows), (zones[0] if zones else None)


async def member_schedule(session: AsyncSession, tenant_id: uuid.UUID,
                          member_id: uuid.UUID) -> tuple[list[WeeklyPeriod], str | None]:
    """A member's schedule periods and its time zone (None without a schedule)."""
    await member_exists(session, tenant_id, member_id)  # another tenant's: NotFound
    return await _schedule_of(session, member_id)


async def replace_member_schedule(session: AsyncSession, tenant_id: uuid.UUID,
                                  member_id: uuid.UUID, periods: Iterable[WeeklyPeriod],
                                  timezone: str | None) -> bool:
    """Make the member's schedule exactly `periods` in `timezone` (none: no schedule).

    False when it already was. A changed schedule is applied at once, not at its next boundary.
    """
    await member_exists(session, tenant_id, member_id)
    wanted = check_schedule(periods, timezone)
    if await _schedule_of(session, member_id) == wanted:
        return False
    await session.execute(delete(availability_schedules).where(
        availability_schedules.c.member_id == member_id))
    found, zone = wanted
    if found:
        await session.execute(insert(availability_schedules), [
            {"id": uuid.uuid4(), "tenant_id": tenant_id, "member_id": member_id,
             "weekday": p.weekday, "starts": p.starts, "ends": p.ends, "timezone": zone}
            for p in found])
    # Forget the last applied boundary: the schedule keeper then applies the new schedule's
    # state now (a manual change made since its last boundary still holds).
    await session.execute(update(availability).where(availability.c.member_id == member_id)
                          .values(schedule_applied_at=None))
    return True
