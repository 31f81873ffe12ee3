"""Availability schedules applied at their boundaries: a manual change holds until the next boundary."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.domain.availability import AvailabilityReason
from teamfoned.routing.hours import BadPeriod, WeeklyPeriod, last_boundary, within
from teamfoned.store.tables import availability, availability_schedules


@dataclass(frozen=True)
class ScheduleChange:
    member_id: uuid.UUID
    available: bool
    boundary: datetime


async def apply_schedules(session: AsyncSession, *, now: datetime) -> list[ScheduleChange]:
    """Set every scheduled member's availability if a boundary passed since it was last applied.

    The state is the schedule's at `now`. A member who changed their availability by hand
    after the last boundary keeps their choice until the next boundary.
    """
    rows = (await session.execute(
        select(availability_schedules.c.member_id, availability_schedules.c.weekday,
               availability_schedules.c.starts, availability_schedules.c.ends,
               availability_schedules.c.timezone)
    )).all()
    periods: dict[uuid.UUID, list[WeeklyPeriod]] = defaultdict(list)
    zones: dict[uuid.UUID, str] = {}
    for member_id, weekday, starts, ends, zone in rows:
        try:
            periods[member_id].append(WeeklyPeriod(weekday, starts, ends))
        except BadPeriod:
            continue  # refused at entry; a hand-edited row must not stop the others
        zones.setdefault(member_id, zone)
    if not periods:
        return []
    current = {
        r.member_id: r for r in (await session.execute(
            select(availability).where(availability.c.member_id.in_(list(periods)))
        )).all()
    }
    changes = []
    for member_id, member_periods in periods.items():
        try:
            tz = ZoneInfo(zones[member_id])
        except (ZoneInfoNotFoundError, ValueError):
            continue
        boundary = last_boundary(member_periods, tz, now)
        if boundary is None:
            continue
        row = current.get(member_id)
        if row is not None and row.schedule_applied_at is not None and row.schedule_applied_at >= boundary:
            continue  # this boundary was applied already
        if row is not None and row.reason == AvailabilityReason.MANUAL and row.changed_at >= boundary:
            # Changed by hand since the boundary: that holds until the next one.
            await session.execute(update(availability).where(availability.c.member_id == member_id)
                                  .values(schedule_applied_at=boundary))
            continue
        state = within(member_periods, tz, now)
        values = {"available": state, "until": None, "reason": AvailabilityReason.SCHEDULE.value, "changed_at": now,
                  "schedule_applied_at": boundary}
        if row is None:
            await session.execute(insert(availability).values(member_id=member_id, **values))
        else:
            await session.execute(update(availability).where(availability.c.member_id == member_id)
                                  .values(**values))
        changes.append(ScheduleChange(member_id, state, boundary))
    return changes
