"""Reading call history back for people: a team's calls, newest first, each with its attempts in order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.store.tables import attempts, calls, members


@dataclass(frozen=True)
class AttemptLine:
    member: str | None  # None once the member was erased
    result: str | None
    started_at: datetime
    ended_at: datetime | None


@dataclass(frozen=True)
class CallLine:
    id: uuid.UUID
    started_at: datetime
    caller_number: str | None
    dialled_number: str | None
    outcome: str | None
    answered_by: str | None
    wait_seconds: float | None
    talk_seconds: float | None
    node: str
    attempts: list[AttemptLine] = field(default_factory=list)


async def recent_calls(session: AsyncSession, team_id: uuid.UUID, limit: int = 20) -> list[CallLine]:
    rows = (await session.execute(
        select(calls, members.c.name.label("answered_name"))
        .outerjoin(members, members.c.id == calls.c.answered_by)
        .where(calls.c.team_id == team_id)
        .order_by(calls.c.started_at.desc())
        .limit(limit)
    )).all()
    ids = [r.id for r in rows]
    legs = (await session.execute(
        select(attempts.c.call_id, attempts.c.result, attempts.c.started_at, attempts.c.ended_at,
               members.c.name)
        .outerjoin(members, members.c.id == attempts.c.member_id)
        .where(attempts.c.call_id.in_(ids))
        .order_by(attempts.c.started_at)
    )).all() if ids else []
    by_call: dict[uuid.UUID, list[AttemptLine]] = {}
    for leg in legs:
        by_call.setdefault(leg.call_id, []).append(AttemptLine(leg.name, leg.result, leg.started_at, leg.ended_at))
    return [
        CallLine(r.id, r.started_at, r.caller_number, r.dialled_number, r.outcome, r.answered_name,
                 r.wait_seconds, r.talk_seconds, r.node, by_call.get(r.id, []))
        for r in rows
    ]
