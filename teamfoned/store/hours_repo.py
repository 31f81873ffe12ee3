"""Opening hours, holidays and availability schedules by id for the API, checked by the directory's own rules."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned import admin
from teamfoned.admin import AdminError
from teamfoned.domain.errors import Invalid, NotFound
from teamfoned.routing.hours import WeeklyPeriod
from teamfoned.store.directory_repo import _member_exists, _team


async def team_hours(session: AsyncSession, tenant_id: uuid.UUID,
                     team_id: uuid.UUID) -> tuple[str, list[WeeklyPeriod]]:
    """The team's time zone and opening hours (none: always open)."""
    row = await _team(session, tenant_id, team_id)
    return row.timezone or "UTC", await admin.team_hours_of(session, row.id)


async def replace_team_hours(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                             periods: list[WeeklyPeriod]) -> None:
    row = await _team(session, tenant_id, team_id)
    try:
        await admin.replace_team_hours(session, tenant_id, row.id, periods)
    except AdminError as exc:
        raise Invalid([("periods", str(exc))]) from None


async def holidays(session: AsyncSession, tenant_id: uuid.UUID,
                   team_id: uuid.UUID) -> list[tuple[date, str | None]]:
    row = await _team(session, tenant_id, team_id)
    return list((await admin.holidays_of(session, row.id)).items())


async def add_holiday(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                      day: date, name: str | None) -> bool:
    """Close the team all day; a day that already is a holiday is only renamed. True when new."""
    row = await _team(session, tenant_id, team_id)
    try:
        return await admin.add_holiday(session, tenant_id, row.name, day, name)
    except AdminError as exc:
        raise Invalid([("name" if name is not None else "date", str(exc))]) from None


async def remove_holiday(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                         day: date) -> None:
    row = await _team(session, tenant_id, team_id)
    try:
        await admin.remove_holiday(session, tenant_id, row.name, day)
    except AdminError:
        raise NotFound("holiday") from None


async def member_schedule(session: AsyncSession, tenant_id: uuid.UUID,
                          member_id: uuid.UUID) -> tuple[list[WeeklyPeriod], str | None]:
    await _member_exists(session, tenant_id, member_id)  # another tenant's: NotFound
    return await admin.schedule_of(session, member_id)


async def replace_member_schedule(session: AsyncSession, tenant_id: uuid.UUID,
                                  member_id: uuid.UUID, periods: list[WeeklyPeriod],
                                  timezone: str | None) -> None:
    """Replace the schedule (none: no schedule); it applies at once, not at its next boundary."""
    await _member_exists(session, tenant_id, member_id)
    if timezone is not None:
        try:
            admin.check_timezone(timezone)
        except AdminError as exc:
            raise Invalid([("timezone", str(exc))]) from None
    try:
        await admin.replace_member_schedule(session, tenant_id, member_id, periods, timezone)
    except AdminError as exc:
        field = "timezone" if timezone is None else "periods"
        raise Invalid([(field, str(exc))]) from None
