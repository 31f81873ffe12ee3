"""The waiting line's statements: the order of waiting callers is the database's, the same for every node."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamfoned.routing.model import LineView
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

    async def leave_line(self, call_id: uuid.UUID, *, now: datetime) -> None:
        """Take the call out of its line (once): its time in line is from joined_at to left_at."""
        async with self._sessions() as session, session.begin():
            await session.execute(
                update(waiting_entries)
                .where(waiting_entries.c.call_id == call_id, waiting_entries.c.left_at.is_(None))
                .values(left_at=now))
