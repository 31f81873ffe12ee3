"""What the availability line reads and writes: members by their phone, wrong PINs counted, PINs set."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from teamfoned.domain.availability_line import DEFAULT_LANGUAGE, LineMember
from teamfoned.domain.phones import PhoneKind
from teamfoned.store import members_repo
from teamfoned.store.engine import changed_rows
from teamfoned.store.line_signals import LineSignals
from teamfoned.store.tables import (
    availability,
    member_phone_line,
    members,
    memberships,
    teams,
    tenants,
)


async def line_members(session: AsyncSession, number: str, *, now: datetime) -> list[LineMember]:
    """Every member, of any tenant, whose phone is the E.164 `number`."""
    rows = (await session.execute(
        select(members.c.id, members.c.tenant_id, tenants.c.phone_pin_required,
               availability.c.available, availability.c.until, member_phone_line.c.language,
               member_phone_line.c.pin_hash, member_phone_line.c.pin_failures)
        .join(tenants, tenants.c.id == members.c.tenant_id)
        .outerjoin(availability, availability.c.member_id == members.c.id)
        .outerjoin(member_phone_line, member_phone_line.c.member_id == members.c.id)
        .where(members.c.phone_kind == PhoneKind.E164.value, members.c.phone == number)
        .order_by(members.c.id))).all()
    zones = dict((await session.execute(
        select(memberships.c.member_id, teams.c.timezone)
        .join(teams, and_(teams.c.id == memberships.c.team_id,
                          teams.c.tenant_id == memberships.c.tenant_id))
        .where(memberships.c.member_id.in_([r.id for r in rows]))
        # Their first team's zone: the one they rank highest in, then by name for a tie.
        .order_by(memberships.c.priority.desc(), teams.c.name.desc()))).all())
    return [LineMember(
        member_id=r.id, tenant_id=r.tenant_id, pin_required=bool(r.phone_pin_required),
        available=bool(r.available) and (r.until is None or r.until > now),
        pin_hash=r.pin_hash, pin_failures=r.pin_failures or 0,
        language=r.language or DEFAULT_LANGUAGE, timezone=zones.get(r.id, "UTC"),
    ) for r in rows]


async def pin_entered(session: AsyncSession, member_id: uuid.UUID, right: bool, *, now: datetime) -> None:
    """A right PIN resets the member's count of wrong ones; a wrong one adds one."""
    count = 0 if right else member_phone_line.c.pin_failures + 1
    await session.execute(update(member_phone_line).where(
        member_phone_line.c.member_id == member_id).values(pin_failures=count, changed_at=now))


async def set_line(session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID, *,
                   now: datetime, **values: object) -> None:
    """Set the member's PIN hash (which clears their wrong PINs) or language."""
    await members_repo.member_exists(session, tenant_id, member_id)
    if "pin_hash" in values:
        values["pin_failures"] = 0
    done = await changed_rows(session, update(member_phone_line).where(
        member_phone_line.c.tenant_id == tenant_id, member_phone_line.c.member_id == member_id)
        .values(changed_at=now, **values))
    if done == 0:
        await session.execute(insert(member_phone_line).values(
            tenant_id=tenant_id, member_id=member_id, changed_at=now, **values))


class LineRepository:
    """The line's statements, each its own short transaction (the daemon's side)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *,
                 signals: LineSignals | None = None) -> None:
        self._sessions = sessions
        # A member who switches available by phone is what callers in a team's line wait for.
        self._signals = signals

    async def line_members(self, number: str, *, now: datetime) -> list[LineMember]:
        async with self._sessions() as session:
            return await line_members(session, number, now=now)

    async def pin_entered(self, member_id: uuid.UUID, right: bool, *, now: datetime) -> None:
        async with self._sessions() as session, session.begin():
            await pin_entered(session, member_id, right, now=now)

    async def set_availability(self, tenant_id: uuid.UUID, member_id: uuid.UUID, available: bool,
                               until: datetime | None, *, now: datetime) -> None:
        async with self._sessions() as session, session.begin():
            await members_repo.set_availability(session, tenant_id, member_id, available, until,
                                                now=now)
        if available and self._signals is not None:
            self._signals.member_available()
