"""Tenant administration by id for the API: teams, numbers, members, memberships; checked before written."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.admin import AdminError, TeamSettings, check_name, check_number
from teamfoned.domain.errors import AlreadyExists, Invalid, NotFound
from teamfoned.domain.phones import MemberPhone
from teamfoned.store.members_repo import Profile, check_member_name, profile
from teamfoned.store.tables import (
    availability,
    members,
    memberships,
    team_numbers,
    teams,
)

PRIORITY_RANGE = (0, 10_000)


@dataclass(frozen=True, slots=True)
class TeamMembership:
    member_id: uuid.UUID
    priority: int


@dataclass(frozen=True, slots=True)
class TeamAdminView:
    id: uuid.UUID
    name: str
    settings: TeamSettings
    numbers: list[str]
    members: list[TeamMembership]


def _invalid(exc: AdminError) -> Invalid:
    # admin.py reports "key: reason; key: reason"; keep each part as one field error.
    fields = []
    for part in str(exc).split("; "):
        key, sep, reason = part.partition(": ")
        fields.append((key, reason) if sep and " " not in key else ("", part))
    return Invalid(fields)


async def _team(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID) -> Any:
    row = (await session.execute(select(teams).where(
        teams.c.tenant_id == tenant_id, teams.c.id == team_id))).first()
    if row is None:
        raise NotFound("team")
    return row


async def _member_exists(session: AsyncSession, tenant_id: uuid.UUID,
                         member_id: uuid.UUID) -> None:
    if await session.scalar(select(members.c.id).where(
            members.c.tenant_id == tenant_id, members.c.id == member_id)) is None:
        raise NotFound("member")


async def team_admin_view(session: AsyncSession, tenant_id: uuid.UUID,
                          team_id: uuid.UUID) -> TeamAdminView:
    row = await _team(session, tenant_id, team_id)
    numbers = list((await session.scalars(select(team_numbers.c.number).where(
        team_numbers.c.team_id == team_id).order_by(team_numbers.c.number))).all())
    mates = [TeamMembership(*r) for r in (await session.execute(
        select(memberships.c.member_id, memberships.c.priority)
        .where(memberships.c.team_id == team_id)
        .order_by(memberships.c.priority, memberships.c.member_id))).all()]
    return TeamAdminView(id=row.id, name=row.name, settings=TeamSettings.from_row(row),
                         numbers=numbers, members=mates)


async def list_teams(session: AsyncSession, tenant_id: uuid.UUID) -> list[TeamAdminView]:
    ids = (await session.scalars(select(teams.c.id).where(teams.c.tenant_id == tenant_id)
                                 .order_by(teams.c.name))).all()
    return [await team_admin_view(session, tenant_id, team_id) for team_id in ids]


async def create_team(session: AsyncSession, tenant_id: uuid.UUID, name: str,
                      settings: TeamSettings, *, now: datetime) -> uuid.UUID:
    try:
        check_name("team", name)
    except AdminError as exc:
        raise Invalid([("name", str(exc))]) from None
    try:
        settings.check()
    except AdminError as exc:
        raise _invalid(exc) from None
    if await session.scalar(select(teams.c.id).where(teams.c.tenant_id == tenant_id,
                                                     teams.c.name == name)):
        raise AlreadyExists(f"a team named {name!r} exists")
    new = uuid.uuid4()
    await session.execute(insert(teams).values(id=new, tenant_id=tenant_id, name=name,
                                               created_at=now, **settings.columns()))
    return new


async def update_team(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                      changes: dict[str, Any]) -> None:
    row = await _team(session, tenant_id, team_id)
    try:
        settings = TeamSettings.from_row(row).with_changes(**changes).check()
    except AdminError as exc:
        raise _invalid(exc) from None
    await session.execute(update(teams).where(teams.c.id == team_id).values(**settings.columns()))


async def delete_team(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID) -> None:
    """Numbers and memberships go with the team; its calls stay for statistics until retention."""
    await _team(session, tenant_id, team_id)
    await session.execute(delete(teams).where(teams.c.id == team_id))


async def add_number(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                     number: str) -> None:
    """Give the team a number; adding a number it already has changes nothing."""
    await _team(session, tenant_id, team_id)
    try:
        number = check_number(number)
    except AdminError as exc:
        raise Invalid([("number", str(exc))]) from None
    owner = (await session.execute(select(team_numbers.c.tenant_id, team_numbers.c.team_id)
                                   .where(team_numbers.c.number == number))).first()
    if owner is not None:
        if tuple(owner) == (tenant_id, team_id):
            return
        # Numbers are unique across the installation; say so without naming who holds it.
        raise AlreadyExists(f"number {number} is already in use")
    await session.execute(insert(team_numbers).values(number=number, tenant_id=tenant_id,
                                                      team_id=team_id))


async def remove_number(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                        number: str) -> None:
    await _team(session, tenant_id, team_id)
    done = await session.execute(delete(team_numbers).where(
        team_numbers.c.tenant_id == tenant_id, team_numbers.c.team_id == team_id,
        team_numbers.c.number == number.strip()))
    if done.rowcount == 0:
        raise NotFound("number")


async def put_membership(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                         member_id: uuid.UUID, priority: int) -> None:
    """Put a member in a team, or change their priority there."""
    await _team(session, tenant_id, team_id)
    await _member_exists(session, tenant_id, member_id)
    low, high = PRIORITY_RANGE
    if not low <= priority <= high:
        raise Invalid([("priority", f"must be {low} to {high}")])
    done = await session.execute(update(memberships).where(
        memberships.c.team_id == team_id, memberships.c.member_id == member_id).values(
        priority=priority))
    if done.rowcount == 0:
        await session.execute(insert(memberships).values(
            id=uuid.uuid4(), tenant_id=tenant_id, team_id=team_id, member_id=member_id,
            priority=priority))


async def remove_membership(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                            member_id: uuid.UUID) -> None:
    await _team(session, tenant_id, team_id)
    done = await session.execute(delete(memberships).where(
        memberships.c.tenant_id == tenant_id, memberships.c.team_id == team_id,
        memberships.c.member_id == member_id))
    if done.rowcount == 0:
        raise NotFound("membership")


async def create_member(session: AsyncSession, tenant_id: uuid.UUID, name: str,
                        phone: MemberPhone, *, is_admin: bool, now: datetime) -> uuid.UUID:
    name = check_member_name(name)
    new = uuid.uuid4()
    await session.execute(insert(members).values(
        id=new, tenant_id=tenant_id, name=name, phone=phone.phone, phone_kind=phone.kind,
        is_admin=is_admin, created_at=now))
    await session.execute(insert(availability).values(member_id=new, available=False,
                                                      changed_at=now))
    return new


async def list_members(session: AsyncSession, tenant_id: uuid.UUID) -> list[Profile]:
    ids = (await session.scalars(select(members.c.id).where(members.c.tenant_id == tenant_id)
                                 .order_by(members.c.name, members.c.id))).all()
    return [await profile(session, tenant_id, member_id) for member_id in ids]

