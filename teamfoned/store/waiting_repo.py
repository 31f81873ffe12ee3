"""The waiting line's statements: the order of waiting callers is the database's, the same for every node."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from teamfoned.routing.model import CallOutcome, LineView
from teamfoned.store.tables import attempts, availability, calls, memberships, waiting_entries


def _line_view_statements() -> tuple[Select[Any], Select[Any]]:
    """The line view's statement, without and with the members a call has tried: built once
    (it runs beside the candidates before every member's INVITE, see routing_repo)."""
    entry = waiting_entries
    call_id = bindparam("call_id", type_=calls.c.id.type)
    arrived_at = bindparam("arrived_at", type_=waiting_entries.c.arrived_at.type)
    ahead = (
        select(func.count())
        .select_from(entry.join(calls, calls.c.id == entry.c.call_id))
        .where(
            entry.c.team_id == bindparam("team_id"),
            entry.c.left_at.is_(None),
            entry.c.call_id != call_id,
            calls.c.outcome.is_(None),
            or_(entry.c.arrived_at < arrived_at,
                and_(entry.c.arrived_at == arrived_at, entry.c.call_id < call_id)),
            ~exists().where(attempts.c.call_id == entry.c.call_id, attempts.c.ended_at.is_(None)),
            # A callback request pausing between tries holds no free member back.
            or_(entry.c.callback_due_at.is_(None), entry.c.callback_due_at <= bindparam("now")),
        )
        .scalar_subquery()
    )
    member = memberships.c.member_id
    untried = (
        memberships.c.team_id == bindparam("team_id"),
        availability.c.available.is_(True),
        or_(availability.c.until.is_(None), availability.c.until > bindparam("now")),
    )
    of_team = memberships.join(availability, availability.c.member_id == member)

    def view(*where: Any) -> Select[Any]:
        # The team's available members not tried yet (free or busy), and their lowest tier.
        available = select(func.count()).select_from(of_team).where(*untried, *where)
        first_tier = select(func.min(memberships.c.tier)).select_from(of_team).where(*untried, *where)
        return select(ahead.label("ahead"), available.scalar_subquery().label("available"),
                      first_tier.scalar_subquery().label("first_tier"))

    return view(), view(member.not_in(bindparam("excluded", expanding=True)))


# Public: the routing repository reads the same view together with the candidates.
LINE_VIEW, LINE_VIEW_EXCEPT = _line_view_statements()


class WaitingRepository:
    """Join, read and leave a team's waiting line; every method is one short transaction.

    `reads`: the engine the line view runs on, one statement on an autocommit connection (the
    call path's pool, no pre-ping: a failed read is the line unknown, as in an outage)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], reads: AsyncEngine | None = None) -> None:
        self._sessions = sessions
        engine = reads if reads is not None else sessions.kw["bind"]
        self._reads = engine.execution_options(isolation_level="AUTOCOMMIT")

    async def line_view(self, team_id: uuid.UUID, call_id: uuid.UUID, *, arrived_at: datetime,
                        now: datetime, exclude: Iterable[uuid.UUID] = ()) -> LineView:
        """The line as this call sees it: callers ahead of it with no member ringing for them,
        and the team's available members it has not tried (free or busy) with their lowest
        tier, all in one statement.

        A caller is ahead when they reached the team earlier (ties by call id); entries of
        calls that ended without leaving (a node that died) never hold the line up.
        """
        excluded = list(exclude)
        params: dict[str, object] = {"team_id": team_id, "call_id": call_id, "arrived_at": arrived_at,
                                     "now": now}
        if excluded:
            params["excluded"] = excluded
        async with self._reads.connect() as conn:
            row = (await conn.execute(LINE_VIEW_EXCEPT if excluded else LINE_VIEW, params)).one()
        return LineView(ahead=int(row[0]), available=int(row[1]),
                        first_tier=None if row[2] is None else int(row[2]))

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

    async def recent_line_waits(self, team_id: uuid.UUID, *, since: datetime,
                                limit: int) -> list[float]:
        """Seconds in line of the team's callers answered from it since `since`, the latest
        first, at most `limit` of them: one statement. A call counts from its answer, while it
        is still being talked (its outcome comes at its end)."""
        entry = waiting_entries
        async with self._sessions() as session:
            rows = (await session.execute(
                select(entry.c.joined_at, entry.c.left_at)
                .join(calls, calls.c.id == entry.c.call_id)
                .where(entry.c.team_id == team_id, entry.c.left_at >= since,
                       calls.c.answered_at.is_not(None))
                .order_by(entry.c.left_at.desc())
                .limit(limit))).all()
        return [max(0.0, (left - joined).total_seconds()) for joined, left in rows]


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
