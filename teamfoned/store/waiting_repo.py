"""The waiting line's statements: the order of waiting callers is the database's, the same for every node."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamfoned.routing.model import CallOutcome, LineView
from teamfoned.store.tables import attempts, availability, calls, memberships, waiting_entries


class WaitingRepository:
    """Join, read and leave a team's waiting line; every method is one short transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def line_view(self, team_id: uuid.UUID, call_id: uuid.UUID, *, arrived_at: datetime,
                        now: datetime, exclude: Iterable[uuid.UUID] = ()) -> LineView:
        """The line as this call sees it: callers ahead of it with no member ringing for them,
        and the team's available members it has not tried (free or busy).

        A caller is ahead when they reached the team earlier (ties by call id); entries of
        calls that ended without leaving (a node that died) never hold the line up.
        """
        entry = waiting_entries
        ahead = (
            select(func.count())
            .select_from(entry.join(calls, calls.c.id == entry.c.call_id))
            .where(
                entry.c.team_id == team_id,
                entry.c.left_at.is_(None),
                entry.c.call_id != call_id,
                calls.c.outcome.is_(None),
                or_(entry.c.arrived_at < arrived_at,
                    and_(entry.c.arrived_at == arrived_at, entry.c.call_id < call_id)),
                ~exists().where(attempts.c.call_id == entry.c.call_id, attempts.c.ended_at.is_(None)),
                # A callback request pausing between tries holds no free member back.
                or_(entry.c.callback_due_at.is_(None), entry.c.callback_due_at <= now),
            )
            .scalar_subquery()
        )
        member = memberships.c.member_id
        available = (
            select(func.count())
            .select_from(memberships.join(availability, availability.c.member_id == member))
            .where(
                memberships.c.team_id == team_id,
                availability.c.available.is_(True),
                or_(availability.c.until.is_(None), availability.c.until > now),
            )
        )
        excluded = list(exclude)
        if excluded:
            available = available.where(member.not_in(excluded))
        async with self._sessions() as session:
            row = (await session.execute(select(ahead, available.scalar_subquery()))).one()
        return LineView(ahead=int(row[0]), available=int(row[1]))

    async def join_line(self, call_id: uuid.UUID, tenant_id: uuid.UUID, team_id: uuid.UUID, *,
                        arrived_at: datetime, node: str, now: datetime) -> None:
        """Put the call in the team's line at its arrival; a second join keeps the first."""
        async with self._sessions() as session, session.begin():
            known = (await session.execute(
                select(waiting_entries.c.call_id).where(waiting_entries.c.call_id == call_id))).first()
            if known is None:
                await session.execute(insert(waiting_entries).values(
                    call_id=call_id, tenant_id=tenant_id, team_id=team_id, node=node,
                    arrived_at=arrived_at, joined_at=now))

    async def request_callback(self, call_id: uuid.UUID, *, now: datetime) -> None:
        """The call's entry becomes a callback request; it keeps its place (its arrival)."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(waiting_entries)
                .where(waiting_entries.c.call_id == call_id,
                       waiting_entries.c.callback_requested_at.is_(None))
                .values(callback_requested_at=now))

    async def callback_retry_later(self, call_id: uuid.UUID, *, tries: int, due_at: datetime) -> None:
        """`tries` callbacks went unanswered; the next one is due at `due_at`."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(waiting_entries).where(waiting_entries.c.call_id == call_id)
                .values(callback_tries=tries, callback_due_at=due_at))

    async def leave_line(self, call_id: uuid.UUID, *, now: datetime) -> None:
        """Take the call out of its line (once): its time in line is from joined_at to left_at."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(waiting_entries)
                .where(waiting_entries.c.call_id == call_id, waiting_entries.c.left_at.is_(None))
                .values(left_at=now))


@dataclass(frozen=True, slots=True)
class TeamLine:
    """A team's waiting line now, as its members see it (no caller's number)."""

    waiting: int
    longest_wait_s: float | None
    # Of the waiting: callers who asked to be called back (they are no longer on the line).
    callbacks_pending: int = 0


@dataclass(frozen=True, slots=True)
class LineStats:
    """The waiting line over a period: calls that waited, their time in line, who gave up."""

    waited: int
    average_line_s: float | None
    longest_line_s: float | None
    abandoned_in_line: int


async def team_line(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID, *,
                    now: datetime) -> TeamLine:
    """Callers in the team's line now (of calls still open) and how long the first has waited."""
    rows = (await session.execute(
        select(waiting_entries.c.joined_at, waiting_entries.c.callback_requested_at)
        .join(calls, calls.c.id == waiting_entries.c.call_id)
        .where(waiting_entries.c.tenant_id == tenant_id, waiting_entries.c.team_id == team_id,
               waiting_entries.c.left_at.is_(None), calls.c.outcome.is_(None)))).all()
    longest = max(((now - joined).total_seconds() for joined, _ in rows), default=None)
    return TeamLine(waiting=len(rows),
                    longest_wait_s=None if longest is None else round(max(0.0, longest), 3),
                    callbacks_pending=sum(1 for _, requested in rows if requested is not None))


async def line_stats(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID, *,
                     start: datetime, end: datetime) -> LineStats:
    """Over the finished calls that started in [start, end) and waited in the team's line."""
    rows = (await session.execute(
        select(waiting_entries.c.joined_at, waiting_entries.c.left_at, calls.c.outcome)
        .join(calls, calls.c.id == waiting_entries.c.call_id)
        .where(waiting_entries.c.tenant_id == tenant_id, waiting_entries.c.team_id == team_id,
               calls.c.started_at >= start, calls.c.started_at < end,
               calls.c.outcome.is_not(None), waiting_entries.c.left_at.is_not(None)))).all()
    spans = [max(0.0, (left - joined).total_seconds()) for joined, left, _ in rows]
    return LineStats(
        waited=len(rows),
        average_line_s=round(sum(spans) / len(spans), 3) if spans else None,
        longest_line_s=round(max(spans), 3) if spans else None,
        abandoned_in_line=sum(1 for *_, outcome in rows if outcome == CallOutcome.ABANDONED))
