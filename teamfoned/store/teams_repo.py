"""What a member sees of their teams: teammates and line states, call history, statistics; only teams they are in."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.domain.errors import Invalid, NotFound
from teamfoned.domain.timetable import stored_zone
from teamfoned.routing.hours import WeeklyPeriod, is_open
from teamfoned.routing.model import ANSWERED_OUTCOMES, CALLBACK_OUTCOMES, CallOutcome
from teamfoned.store import call_history
from teamfoned.store.call_history import CallView
from teamfoned.store.hours_repo import holidays_of, hours_of
from teamfoned.store.line_state import LineState, is_available, line_state
from teamfoned.store.tables import (
    attempts,
    availability,
    calls,
    members,
    memberships,
    team_numbers,
    teams,
)
from teamfoned.store.types import UTCDateTime


@dataclass(frozen=True, slots=True)
class Teammate:
    id: uuid.UUID
    name: str
    priority: int
    has_photo: bool
    available: bool
    until: datetime | None
    reason: str | None
    line_state: LineState


@dataclass(frozen=True, slots=True)
class TeamView:
    id: uuid.UUID
    name: str
    label: str
    strategy: str
    ring_time_s: int
    max_wait_s: int
    wrap_up_s: int
    timezone: str
    open_now: bool
    hours: list[WeeklyPeriod]
    holidays: list[tuple[date, str | None]]
    numbers: list[str]
    members: list[Teammate]


@dataclass(frozen=True, slots=True)
class TeamStats:
    received: int
    answered: int
    abandoned: int
    missed: int
    average_wait_s: float | None
    p90_wait_s: float | None
    service_level_seconds: int = 20
    service_level: float | None = None
    # Callers who asked to be called back, and of them those who talked with a member.
    callbacks: int = 0
    callbacks_answered: int = 0


def _aware(value: object) -> datetime | None:
    # Aggregates lose the column type on SQLite (a string comes back): normalise here.
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return UTCDateTime().process_result_value(value, None)  # type: ignore[arg-type]


async def team_row(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                    viewer: uuid.UUID) -> Any:
    """The team, if the viewer is in it; a team they are not in does not exist for them."""
    row = (await session.execute(
        select(teams).join(memberships, memberships.c.team_id == teams.c.id)
        .where(teams.c.id == team_id, teams.c.tenant_id == tenant_id,
               memberships.c.member_id == viewer, memberships.c.tenant_id == tenant_id))).first()
    if row is None:
        raise NotFound("team")
    return row


async def team_view(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                    viewer: uuid.UUID, *, now: datetime) -> TeamView:
    team = await team_row(session, tenant_id, team_id, viewer)
    rows = (await session.execute(
        select(members.c.id, members.c.name, memberships.c.priority,
               members.c.photo.is_not(None).label("has_photo"),
               availability.c.available, availability.c.until, availability.c.reason)
        .join(memberships, memberships.c.member_id == members.c.id)
        .outerjoin(availability, availability.c.member_id == members.c.id)
        .where(memberships.c.team_id == team_id, members.c.tenant_id == tenant_id)
        .order_by(memberships.c.priority, members.c.name, members.c.id))).all()
    ids = [r.id for r in rows]
    open_attempts: dict[uuid.UUID, bool] = {}
    last_end: dict[uuid.UUID, datetime | None] = {}
    if ids:
        for member_id, answered_at in (await session.execute(
                select(attempts.c.member_id, attempts.c.answered_at)
                .where(attempts.c.member_id.in_(ids), attempts.c.ended_at.is_(None)))).all():
            open_attempts[member_id] = answered_at is not None
        for member_id, ended in (await session.execute(
                select(attempts.c.member_id, func.max(attempts.c.ended_at))
                .where(attempts.c.member_id.in_(ids), attempts.c.answered_at.is_not(None))
                .group_by(attempts.c.member_id))).all():
            last_end[member_id] = _aware(ended)
    numbers = await _numbers(session, tenant_id, team_id)
    mates = [
        Teammate(
            id=r.id, name=r.name, priority=r.priority, has_photo=bool(r.has_photo),
            available=is_available(r.available, r.until, now), until=r.until,
            reason=r.reason,
            line_state=line_state(available=r.available, until=r.until,
                                  open_attempt_answered=open_attempts.get(r.id),
                                  last_answered_end=last_end.get(r.id),
                                  wrap_up_s=team.wrap_up_s, now=now))
        for r in rows
    ]
    zone, tz = stored_zone(team.timezone)
    hours = await hours_of(session, team.id)
    holidays = await holidays_of(session, team.id)
    today = now.astimezone(tz).date()
    return TeamView(id=team.id, name=team.name, label=team.label, strategy=team.strategy,
                    ring_time_s=team.ring_time_s, max_wait_s=team.max_wait_s,
                    wrap_up_s=team.wrap_up_s, timezone=zone,
                    open_now=is_open(hours, set(holidays), tz, now), hours=hours,
                    holidays=[(day, name) for day, name in holidays.items() if day >= today],
                    numbers=numbers, members=mates)


async def _numbers(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID) -> list[str]:
    return list((await session.scalars(
        select(team_numbers.c.number).where(team_numbers.c.tenant_id == tenant_id,
                                            team_numbers.c.team_id == team_id)
        .order_by(team_numbers.c.number))).all())


# -- call history ------------------------------------------------------------------------------

async def calls_page(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                     viewer: uuid.UUID, *, cursor: str | None,
                     limit: int) -> tuple[list[CallView], str | None]:
    """One page of the team's calls, newest first, for a member of the team."""
    await team_row(session, tenant_id, team_id, viewer)
    return await call_history.calls_page(session, tenant_id, team_id, cursor=cursor, limit=limit)


# -- statistics --------------------------------------------------------------------------------

def p90(values: list[float]) -> float | None:
    """The 90th percentile by the nearest-rank method (a value that really occurred)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def summarise(outcomes: list[tuple[str, float | None]], service_level_seconds: int = 20) -> TeamStats:
    """Statistics over finished calls: (outcome, wait seconds) pairs.

    Waits are those of answered calls: how long a caller who got through waited. The service
    level is the share of all received calls answered within `service_level_seconds` (callers
    who hung up early count against it, as in app_queue's servicelevel statistics).
    """
    # A caller called back who talked with a member was answered too (their wait runs to the
    # callback's answer).
    answered = [w for o, w in outcomes if o in ANSWERED_OUTCOMES]
    waits = [w for w in answered if w is not None]
    abandoned = sum(1 for o, _ in outcomes if o == CallOutcome.ABANDONED)
    return TeamStats(
        received=len(outcomes), answered=len(answered), abandoned=abandoned,
        missed=len(outcomes) - len(answered) - abandoned,
        average_wait_s=round(sum(waits) / len(waits), 3) if waits else None,
        p90_wait_s=p90(waits), service_level_seconds=service_level_seconds,
        service_level=round(sum(1 for w in waits if w <= service_level_seconds) / len(outcomes), 4)
        if outcomes else None,
        callbacks=sum(1 for o, _ in outcomes if o in CALLBACK_OUTCOMES),
        callbacks_answered=sum(1 for o, _ in outcomes if o == CallOutcome.CALLBACK_ANSWERED))


async def team_stats(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                     viewer: uuid.UUID, *, start: datetime, end: datetime) -> TeamStats:
    if end <= start:
        raise Invalid([("to", "must be after from")])
    team = await team_row(session, tenant_id, team_id, viewer)
    rows = (await session.execute(
        select(calls.c.outcome, calls.c.wait_seconds)
        .where(calls.c.tenant_id == tenant_id, calls.c.team_id == team_id,
               calls.c.started_at >= start, calls.c.started_at < end,
               calls.c.outcome.is_not(None)))).all()
    return summarise([(r.outcome, r.wait_seconds) for r in rows], team.service_level_seconds)
