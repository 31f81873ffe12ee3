"""Members by id: created, found, read, changed and erased; every statement is scoped to the caller's tenant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, false, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.domain.availability import AvailabilityReason, AwayReason
from teamfoned.domain.errors import LastAdmin, NotFound
from teamfoned.domain.members import check_member_name, check_until
from teamfoned.domain.phones import MemberPhone, PhoneKind
from teamfoned.routing.model import FallbackKind
from teamfoned.store import outbox
from teamfoned.store.endpoints_repo import check_phone_allowed
from teamfoned.store.engine import changed_rows
from teamfoned.store.line_signals import signal_line_in
from teamfoned.store.tables import availability, calls, members, memberships, teams, tenants


@dataclass(frozen=True, slots=True)
class TeamRef:
    id: uuid.UUID
    name: str
    label: str


@dataclass(frozen=True, slots=True)
class Profile:
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    phone: str
    phone_kind: str
    is_admin: bool
    has_photo: bool
    available: bool
    until: datetime | None
    changed_at: datetime | None
    reason: str | None
    teams: list[TeamRef]
    away_reason: str | None = None


async def member_exists(session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID) -> None:
    """Raise NotFound unless the member is one of the tenant's."""
    if await session.scalar(select(members.c.id).where(
            members.c.tenant_id == tenant_id, members.c.id == member_id)) is None:
        raise NotFound("member")


async def members_named(session: AsyncSession, tenant_id: uuid.UUID, name: str) -> list[uuid.UUID]:
    """The ids of the tenant's members with this name (names need not be unique)."""
    return list((await session.scalars(select(members.c.id).where(
        members.c.tenant_id == tenant_id, members.c.name == name).order_by(members.c.id))).all())


async def create_member(session: AsyncSession, tenant_id: uuid.UUID, name: str,
                        phone: MemberPhone, *, is_admin: bool, now: datetime,
                        available: bool = False, until: datetime | None = None) -> uuid.UUID:
    """A new member, unavailable unless told otherwise (the directory file may say so)."""
    name = check_member_name(name)
    await check_phone_allowed(session, tenant_id, phone)
    new = uuid.uuid4()
    await session.execute(insert(members).values(
        id=new, tenant_id=tenant_id, name=name, phone=phone.phone, phone_kind=phone.kind,
        is_admin=is_admin, created_at=now))
    await session.execute(insert(availability).values(member_id=new, available=available,
                                                      until=until, changed_at=now))
    return new


async def teams_of(session: AsyncSession, tenant_id: uuid.UUID,
                   member_id: uuid.UUID) -> list[TeamRef]:
    rows = (await session.execute(
        select(teams.c.id, teams.c.name, teams.c.label)
        .join(memberships, memberships.c.team_id == teams.c.id)
        .where(memberships.c.member_id == member_id, memberships.c.tenant_id == tenant_id,
               teams.c.tenant_id == tenant_id)
        .order_by(teams.c.name))).all()
    return [TeamRef(*row) for row in rows]


def _profiles_query(tenant_id: uuid.UUID) -> Any:
    return (select(members.c.id, members.c.tenant_id, members.c.name, members.c.phone,
                   members.c.phone_kind, members.c.is_admin,
                   members.c.photo.is_not(None).label("has_photo"),
                   availability.c.available, availability.c.until, availability.c.changed_at,
                   availability.c.reason, availability.c.away_reason)
            .outerjoin(availability, availability.c.member_id == members.c.id)
            .where(members.c.tenant_id == tenant_id))


def _profile(row: Any, member_teams: list[TeamRef]) -> Profile:
    return Profile(id=row.id, tenant_id=row.tenant_id, name=row.name, phone=row.phone,
                   phone_kind=row.phone_kind, is_admin=bool(row.is_admin),
                   has_photo=bool(row.has_photo), available=bool(row.available),
                   until=row.until, changed_at=row.changed_at, reason=row.reason,
                   teams=member_teams, away_reason=row.away_reason)


async def profile(session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID) -> Profile:
    row = (await session.execute(
        _profiles_query(tenant_id).where(members.c.id == member_id))).first()
    if row is None:
        raise NotFound("member")
    return _profile(row, await teams_of(session, tenant_id, member_id))


async def list_members(session: AsyncSession, tenant_id: uuid.UUID) -> list[Profile]:
    """Every member of the tenant, by name, in two queries however many there are."""
    rows = (await session.execute(
        _profiles_query(tenant_id).order_by(members.c.name, members.c.id))).all()
    by_member: dict[uuid.UUID, list[TeamRef]] = {}
    for member_id, *team in (await session.execute(
            select(memberships.c.member_id, teams.c.id, teams.c.name, teams.c.label)
            .join(teams, teams.c.id == memberships.c.team_id)
            .where(memberships.c.tenant_id == tenant_id, teams.c.tenant_id == tenant_id)
            .order_by(teams.c.name))).all():
        by_member.setdefault(member_id, []).append(TeamRef(*team))
    return [_profile(row, by_member.get(row.id, [])) for row in rows]


async def update_member(session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID, *,
                        name: str | None = None, phone: MemberPhone | None = None,
                        is_admin: bool | None = None) -> None:
    values: dict[str, object] = {}
    if name is not None:
        values["name"] = check_member_name(name)
    if is_admin is not None:
        values["is_admin"] = is_admin
    await member_exists(session, tenant_id, member_id)
    if phone is not None:
        await check_phone_allowed(session, tenant_id, phone)
        values.update(phone=phone.phone, phone_kind=phone.kind)
    if values:
        statement = update(members).where(members.c.id == member_id).values(**values)
        if is_admin is False:
            await _admin_changes_take_turns(session, tenant_id)
            statement = statement.where(_keeps_an_admin(tenant_id, member_id))
        if await changed_rows(session, statement) == 0:
            raise LastAdmin(await _name(session, member_id))


async def set_availability(session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID,
                           available: bool, until: datetime | None, *, now: datetime,
                           away: AwayReason | None = None) -> None:
    """`away`: what the member says they are away for; kept only with "unavailable"."""
    check_until(until, now)
    await member_exists(session, tenant_id, member_id)
    # `until` only limits availability; for "unavailable" it has no meaning, so it is dropped.
    # A manual change holds until the member's schedule reaches its next boundary.
    values = {"available": available, "until": until if available else None,
              "reason": AvailabilityReason.MANUAL.value, "changed_at": now,
              "away_reason": None if available or away is None else away.value}
    done = await changed_rows(session, update(availability).where(
        availability.c.member_id == member_id).values(**values))
    if done == 0:
        await session.execute(insert(availability).values(member_id=member_id, **values))
    if available:
        # Callers waiting in the member's teams' lines look again once this commits.
        await signal_line_in(session)


async def photo(session: AsyncSession, tenant_id: uuid.UUID,
                member_id: uuid.UUID) -> tuple[bytes, str]:
    row = (await session.execute(select(members.c.photo, members.c.photo_type).where(
        members.c.tenant_id == tenant_id, members.c.id == member_id))).first()
    if row is None or row.photo is None:
        raise NotFound("photo")
    return row.photo, row.photo_type


async def set_photo(session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID,
                    data: bytes | None, content_type: str | None) -> None:
    """Store (or with None, remove) the member's photo."""
    done = await changed_rows(session,
        update(members).where(members.c.tenant_id == tenant_id, members.c.id == member_id)
        .values(photo=data, photo_type=content_type))
    if done == 0:
        raise NotFound("member")


def _number_forms(phone: str) -> list[str]:
    # Asterisk hands over caller ids with or without "+", and sometimes with "00".
    digits = phone.lstrip("+")
    return [phone, digits, "+" + digits, "00" + digits]


async def _admin_changes_take_turns(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """Hold the tenant's row until commit, so two admins stepping down at once take turns.

    On PostgreSQL each would otherwise see the other still an admin and both succeed (their
    rows differ, so nothing else makes them wait). FOR NO KEY UPDATE: rows that merely refer
    to the tenant (calls being recorded) are not held up. SQLite has one writer at a time, and
    the guarded statement below reads and writes in one step; it ignores the clause.
    """
    await session.execute(select(tenants.c.id).where(tenants.c.id == tenant_id)
                          .with_for_update(key_share=True))


def _keeps_an_admin(tenant_id: uuid.UUID, member_id: uuid.UUID) -> ColumnElement[bool]:
    """The guard of a demotion or erasure: the member is no admin, or another admin stays.

    (A tenant that never had an admin, run by the sysadmin alone, may stay so.)
    """
    other = members.alias("other_admin")
    return or_(members.c.is_admin == false(),
               exists().where(other.c.tenant_id == tenant_id, other.c.is_admin,
                              other.c.id != member_id))


async def _name(session: AsyncSession, member_id: uuid.UUID) -> str:
    found: str | None = await session.scalar(select(members.c.name).where(members.c.id == member_id))
    if found is None:
        raise NotFound("member")  # erased meanwhile by someone else
    return found


async def erase_member(session: AsyncSession, tenant_id: uuid.UUID, member_id: uuid.UUID) -> None:
    """Erase a member: no name, number or photo of theirs remains in any table.

    Refused (LastAdmin, nothing written) for the tenant's last admin. Memberships,
    availability, schedules and tokens go with the row (ON DELETE CASCADE); calls and attempts
    keep their statistics but forget who it was (ON DELETE SET NULL). Calls the member made to
    a team number carried their number as caller id: that goes too, in the calls and in the
    webhook deliveries describing them; a team's fallback or closed target that is the
    member's number is reset to the shipped fallback. personal_data.TABLES lists every table.
    Once committed, personal_data.empty_write_ahead_log keeps SQLite's log from holding it.
    """
    row = (await session.execute(select(members.c.phone, members.c.phone_kind).where(
        members.c.tenant_id == tenant_id, members.c.id == member_id))).first()
    if row is None:
        raise NotFound("member")
    await _admin_changes_take_turns(session, tenant_id)
    # The guarded delete first: refused, it has written nothing.
    if await changed_rows(session, delete(members).where(
            members.c.tenant_id == tenant_id, members.c.id == member_id,
            _keeps_an_admin(tenant_id, member_id))) == 0:
        raise LastAdmin(await _name(session, member_id))
    forms = _number_forms(row.phone) if row.phone_kind == PhoneKind.E164 else [row.phone]
    await session.execute(
        update(calls).where(calls.c.tenant_id == tenant_id,
                            or_(calls.c.caller_number.in_(forms),
                                func.lower(calls.c.caller_number) == row.phone.lower()))
        .values(caller_number=None))
    await outbox.redact_deliveries(session, tenant_id, numbers=forms, member_id=member_id)
    if row.phone_kind == PhoneKind.E164:
        number = FallbackKind.NUMBER.value
        await session.execute(update(teams).where(
            teams.c.tenant_id == tenant_id, teams.c.fallback_kind == number,
            teams.c.fallback_target.in_(forms)).values(
                fallback_kind=FallbackKind.DIALPLAN.value, fallback_target=None))
        await session.execute(update(teams).where(
            teams.c.tenant_id == tenant_id, teams.c.closed_kind == number,
            teams.c.closed_target.in_(forms)).values(closed_kind=None, closed_target=None))
