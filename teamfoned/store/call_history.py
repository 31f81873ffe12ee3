"""Reading call history back for people: a team's calls, newest first, each with its attempts in order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.store import cursors
from teamfoned.store.tables import attempts, calls, members


@dataclass(frozen=True, slots=True)
class AttemptView:
    id: uuid.UUID
    member_id: uuid.UUID | None
    member_name: str | None  # None once the member was erased
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    result: str | None


@dataclass(frozen=True, slots=True)
class CallView:
    id: uuid.UUID
    caller_number: str | None
    dialled_number: str | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    outcome: str | None
    wait_seconds: float | None
    talk_seconds: float | None
    answered_by: uuid.UUID | None
    answered_by_name: str | None
    handled_by: uuid.UUID | None
    handled_at: datetime | None
    node: str
    attempts: list[AttemptView]


def encode_cursor(started_at: datetime, call_id: uuid.UUID) -> str:
    return cursors.encode_cursor(started_at, call_id)


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position after which the next page starts; a mangled cursor is the caller's mistake."""
    started_at, call_id = cursors.decode_cursor(cursor, datetime, uuid.UUID)
    assert isinstance(started_at, datetime) and isinstance(call_id, uuid.UUID)
    return started_at, call_id


async def calls_page(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID, *,
                     cursor: str | None, limit: int) -> tuple[list[CallView], str | None]:
    """One page of the team's calls, newest first, and the cursor of the next page (or None).

    Keyset pagination on (started_at, id): stable while new calls arrive, one index range scan.
    Whether the caller may see the team is decided before (a member: teams_repo).
    """
    stmt = (select(calls, members.c.name.label("answered_by_name"))
            .outerjoin(members, members.c.id == calls.c.answered_by)
            .where(calls.c.tenant_id == tenant_id, calls.c.team_id == team_id)
            .order_by(calls.c.started_at.desc(), calls.c.id.desc()).limit(limit + 1))
    if cursor is not None:
        started_at, call_id = decode_cursor(cursor)
        stmt = stmt.where(or_(calls.c.started_at < started_at,
                              and_(calls.c.started_at == started_at, calls.c.id < call_id)))
    rows = (await session.execute(stmt)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    by_call: dict[uuid.UUID, list[AttemptView]] = {r.id: [] for r in rows}
    if rows:
        for a in (await session.execute(
                select(attempts.c.id, attempts.c.call_id, attempts.c.member_id, members.c.name,
                       attempts.c.started_at, attempts.c.answered_at, attempts.c.ended_at,
                       attempts.c.result)
                .outerjoin(members, members.c.id == attempts.c.member_id)
                .where(attempts.c.tenant_id == tenant_id, attempts.c.call_id.in_(list(by_call)))
                .order_by(attempts.c.started_at, attempts.c.id))).all():
            by_call[a.call_id].append(AttemptView(
                id=a.id, member_id=a.member_id, member_name=a.name, started_at=a.started_at,
                answered_at=a.answered_at, ended_at=a.ended_at, result=a.result))
    page = [CallView(id=r.id, caller_number=r.caller_number, dialled_number=r.dialled_number,
                     started_at=r.started_at, answered_at=r.answered_at, ended_at=r.ended_at,
                     outcome=r.outcome, wait_seconds=r.wait_seconds, talk_seconds=r.talk_seconds,
                     answered_by=r.answered_by, answered_by_name=r.answered_by_name,
                     handled_by=r.handled_by, handled_at=r.handled_at, node=r.node,
                     attempts=by_call[r.id])
            for r in rows]
    next_cursor = encode_cursor(rows[-1].started_at, rows[-1].id) if more else None
    return page, next_cursor
