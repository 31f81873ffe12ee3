"""Missed-call follow-up for the API: the team's unanswered calls, unhandled first, and marking one handled."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.domain.errors import Invalid, NotFound
from teamfoned.routing.model import MISSED_OUTCOMES
from teamfoned.store import cursors
from teamfoned.store.tables import calls, members
from teamfoned.store.teams_repo import team_row


@dataclass(frozen=True, slots=True)
class MissedCall:
    id: uuid.UUID
    caller_number: str | None
    dialled_number: str | None
    started_at: datetime
    ended_at: datetime | None
    outcome: str
    wait_seconds: float | None
    handled_by: uuid.UUID | None
    handled_by_name: str | None
    handled_at: datetime | None

    @property
    def handled(self) -> bool:
        return self.handled_at is not None


# 0 for calls still to call back, 1 for handled ones: the first key of the order.
_HANDLED = case((calls.c.handled_at.is_(None), 0), else_=1)


def encode_cursor(handled: bool, started_at: datetime, call_id: uuid.UUID) -> str:
    return cursors.encode_cursor(int(handled), started_at, call_id)


def decode_cursor(cursor: str) -> tuple[int, datetime, uuid.UUID]:
    handled, started_at, call_id = cursors.decode_cursor(cursor, int, datetime, uuid.UUID)
    if (not isinstance(handled, int) or handled not in (0, 1) or not isinstance(started_at, datetime)
            or not isinstance(call_id, uuid.UUID)):
        raise Invalid([("cursor", "not a cursor this API handed out")])
    return handled, started_at, call_id


def _missed_of_team(tenant_id: uuid.UUID, team_id: uuid.UUID) -> ColumnElement[bool]:
    return and_(calls.c.tenant_id == tenant_id, calls.c.team_id == team_id,
                calls.c.outcome.in_(sorted(MISSED_OUTCOMES)))


async def missed_page(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                      viewer: uuid.UUID, *, cursor: str | None, limit: int,
                      unhandled_only: bool = False) -> tuple[list[MissedCall], str | None]:
    """One page of the team's missed calls: still to call back first, then handled; newest first
    within each. Keyset pagination on (handled, started_at, id)."""
    await team_row(session, tenant_id, team_id, viewer)
    stmt = (select(calls.c.id, calls.c.caller_number, calls.c.dialled_number,
                   calls.c.started_at, calls.c.ended_at, calls.c.outcome, calls.c.wait_seconds,
                   calls.c.handled_by, calls.c.handled_at, members.c.name.label("handler"))
            .outerjoin(members, members.c.id == calls.c.handled_by)
            .where(_missed_of_team(tenant_id, team_id))
            .order_by(_HANDLED, calls.c.started_at.desc(), calls.c.id.desc())
            .limit(limit + 1))
    if unhandled_only:
        stmt = stmt.where(calls.c.handled_at.is_(None))
    if cursor is not None:
        handled, started_at, call_id = decode_cursor(cursor)
        older = or_(calls.c.started_at < started_at,
                    and_(calls.c.started_at == started_at, calls.c.id < call_id))
        # The column expression on the left, so the comparison is SQL, not Python.
        stmt = stmt.where(or_(_HANDLED > handled, and_(_HANDLED == handled, older)))
    rows = (await session.execute(stmt)).all()
    more = len(rows) > limit
    page = [MissedCall(id=r.id, caller_number=r.caller_number, dialled_number=r.dialled_number,
                       started_at=r.started_at, ended_at=r.ended_at, outcome=r.outcome,
                       wait_seconds=r.wait_seconds, handled_by=r.handled_by,
                       handled_by_name=r.handler, handled_at=r.handled_at)
            for r in rows[:limit]]
    last = page[-1] if more else None
    next_cursor = encode_cursor(last.handled, last.started_at, last.id) if last else None
    return page, next_cursor


async def missed_call(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                      call_id: uuid.UUID) -> MissedCall:
    row = (await session.execute(
        select(calls.c.id, calls.c.caller_number, calls.c.dialled_number, calls.c.started_at,
               calls.c.ended_at, calls.c.outcome, calls.c.wait_seconds, calls.c.handled_by,
               calls.c.handled_at, members.c.name.label("handler"))
        .outerjoin(members, members.c.id == calls.c.handled_by)
        .where(calls.c.tenant_id == tenant_id, calls.c.team_id == team_id,
               calls.c.id == call_id))).first()
    if row is None:
        raise NotFound("call")
    if row.outcome is None:
        raise Invalid([("call_id", "the call is still in progress")])
    if row.outcome not in MISSED_OUTCOMES:
        reason = f"the call was not missed ({row.outcome}): there is nothing to call back"
        raise Invalid([("call_id", reason)])
    return MissedCall(id=row.id, caller_number=row.caller_number,
                      dialled_number=row.dialled_number, started_at=row.started_at,
                      ended_at=row.ended_at, outcome=row.outcome,
                      wait_seconds=row.wait_seconds, handled_by=row.handled_by,
                      handled_by_name=row.handler, handled_at=row.handled_at)


async def mark_handled(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                       call_id: uuid.UUID, member_id: uuid.UUID, *, now: datetime) -> MissedCall:
    """Record that `member_id` called back; a call already handled keeps its first handler."""
    await team_row(session, tenant_id, team_id, member_id)
    await missed_call(session, tenant_id, team_id, call_id)
    # One conditional statement: of two members marking it at once, the first one stays.
    await session.execute(
        update(calls).where(calls.c.tenant_id == tenant_id, calls.c.id == call_id,
                            calls.c.handled_at.is_(None))
        .values(handled_by=member_id, handled_at=now))
    return await missed_call(session, tenant_id, team_id, call_id)
