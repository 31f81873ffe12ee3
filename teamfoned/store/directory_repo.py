"""Teams by id: their settings, numbers and memberships; checked by the domain's rules before written."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.domain.errors import AlreadyExists, NotFound
from teamfoned.domain.members import check_membership
from teamfoned.domain.names import canonical_number, check_name
from teamfoned.domain.team_settings import FallbackPolicy, TeamSettings
from teamfoned.routing.tiers import FIRST_TIER
from teamfoned.store.engine import changed_rows
from teamfoned.store.members_repo import member_exists
from teamfoned.store.tables import memberships, team_numbers, teams

# Settings are stored in the column of their own name, except these (the unit is in the name).
_COLUMN = {"ring_time": "ring_time_s", "max_wait": "max_wait_s", "wrap_up": "wrap_up_s"}


def settings_columns(settings: TeamSettings) -> dict[str, Any]:
    return {_COLUMN.get(f.name, f.name): getattr(settings, f.name) for f in fields(settings)}


def settings_of(row: Any) -> TeamSettings:
    values = {f.name: getattr(row, _COLUMN.get(f.name, f.name)) for f in fields(TeamSettings)}
    return TeamSettings(**{**values, "timezone": values["timezone"] or "UTC"})


@dataclass(frozen=True, slots=True)
class TeamMembership:
    member_id: uuid.UUID
    priority: int
    tier: int = 1


@dataclass(frozen=True, slots=True)
class TeamAdminView:
    id: uuid.UUID
    name: str
    settings: TeamSettings
    numbers: list[str]
    members: list[TeamMembership]


async def team_row(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID) -> Any:
    """The team's row; another tenant's team does not exist for the caller."""
    row = (await session.execute(select(teams).where(
        teams.c.tenant_id == tenant_id, teams.c.id == team_id))).first()
    if row is None:
        raise NotFound("team")
    return row


async def team_named(session: AsyncSession, tenant_id: uuid.UUID, name: str) -> uuid.UUID | None:
    found: uuid.UUID | None = await session.scalar(select(teams.c.id).where(
        teams.c.tenant_id == tenant_id, teams.c.name == name))
    return found


async def team_numbers_of(session: AsyncSession, team_id: uuid.UUID) -> list[str]:
    return list((await session.scalars(select(team_numbers.c.number).where(
        team_numbers.c.team_id == team_id).order_by(team_numbers.c.number))).all())


async def team_admin_view(session: AsyncSession, tenant_id: uuid.UUID,
                          team_id: uuid.UUID) -> TeamAdminView:
    row = await team_row(session, tenant_id, team_id)
    mates = [TeamMembership(*r) for r in (await session.execute(
        select(memberships.c.member_id, memberships.c.priority, memberships.c.tier)
        .where(memberships.c.team_id == team_id)
        .order_by(memberships.c.priority, memberships.c.member_id))).all()]
    return TeamAdminView(id=row.id, name=row.name, settings=settings_of(row),
                         numbers=await team_numbers_of(session, team_id), members=mates)


async def list_teams(session: AsyncSession, tenant_id: uuid.UUID) -> list[TeamAdminView]:
    ids = (await session.scalars(select(teams.c.id).where(teams.c.tenant_id == tenant_id)
                                 .order_by(teams.c.name))).all()
    return [await team_admin_view(session, tenant_id, team_id) for team_id in ids]


async def create_team(session: AsyncSession, tenant_id: uuid.UUID, name: str,
                      settings: TeamSettings, *, now: datetime,
                      fallbacks: FallbackPolicy) -> uuid.UUID:
    check_name("team", name)
    settings.check(fallbacks)
    if await team_named(session, tenant_id, name) is not None:
        raise AlreadyExists(f"team {name!r} already exists")
    new = uuid.uuid4()
    await session.execute(insert(teams).values(id=new, tenant_id=tenant_id, name=name,
                                               created_at=now, **settings_columns(settings)))
    return new


async def replace_team_settings(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                                settings: TeamSettings, *, fallbacks: FallbackPolicy) -> bool:
    """Give the team exactly these settings; False when it had them."""
    row = await team_row(session, tenant_id, team_id)
    settings.check(fallbacks)
    if settings_of(row) == settings:
        return False
    await session.execute(update(teams).where(teams.c.id == team_id).values(
        **settings_columns(settings)))
    return True


async def update_team(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                      changes: dict[str, Any], *, fallbacks: FallbackPolicy) -> TeamSettings:
    """Change some settings (None: unchanged, CLEAR: back to none); returns them all.

    `fallbacks` is the installation's policy for fallback and closed targets."""
    row = await team_row(session, tenant_id, team_id)
    settings = settings_of(row).with_changes(**changes).check(fallbacks)
    await session.execute(update(teams).where(teams.c.id == team_id).values(
        **settings_columns(settings)))
    return settings


async def delete_team(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID) -> None:
    """Numbers and memberships go with the team; its calls stay for statistics until retention."""
    await team_row(session, tenant_id, team_id)
    await session.execute(delete(teams).where(teams.c.id == team_id))


# -- numbers -----------------------------------------------------------------------------------

async def team_of_number(session: AsyncSession, tenant_id: uuid.UUID, number: str, *,
                         default_region: str | None = None) -> uuid.UUID | None:
    """The tenant's team that has this number (in any spelling), if any."""
    found: uuid.UUID | None = await session.scalar(select(team_numbers.c.team_id).where(
        team_numbers.c.tenant_id == tenant_id,
        team_numbers.c.number == canonical_number(number, default_region=default_region)))
    return found


async def add_number(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                     number: str, *, default_region: str | None = None) -> str:
    """Give the team a number, stored in its canonical form, which is returned.

    Any spelling of a number another team holds is refused; the team's own is no change.
    """
    await team_row(session, tenant_id, team_id)
    number = canonical_number(number, default_region=default_region)
    owner = (await session.execute(select(team_numbers.c.tenant_id, team_numbers.c.team_id)
                                   .where(team_numbers.c.number == number))).first()
    if owner is not None:
        if tuple(owner) == (tenant_id, team_id):
            return number
        # Numbers are unique across the installation; say so without naming who holds it.
        raise AlreadyExists(f"number {number} is already in use")
    await session.execute(insert(team_numbers).values(number=number, tenant_id=tenant_id,
                                                      team_id=team_id))
    return number


async def remove_number(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                        number: str, *, default_region: str | None = None) -> str:
    """Take the number (in any spelling) from the team; returns its canonical form."""
    await team_row(session, tenant_id, team_id)
    number = canonical_number(number, default_region=default_region)
    done = await changed_rows(session, delete(team_numbers).where(
        team_numbers.c.tenant_id == tenant_id, team_numbers.c.team_id == team_id,
        team_numbers.c.number == number))
    if done == 0:
        raise NotFound("number")
    return number


# -- memberships -------------------------------------------------------------------------------

async def put_membership(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                         member_id: uuid.UUID, priority: int, *, tier: int | None = None) -> bool:
    """Put a member in a team, or change their priority and tier there; False when nothing
    changed. `tier` None keeps the member's tier (1 for a new membership)."""
    await team_row(session, tenant_id, team_id)
    await member_exists(session, tenant_id, member_id)
    check_membership(priority, tier)
    current = (await session.execute(select(memberships.c.priority, memberships.c.tier).where(
        memberships.c.team_id == team_id, memberships.c.member_id == member_id))).first()
    if current is not None:
        wanted = (priority, current.tier if tier is None else tier)
        if tuple(current) == wanted:
            return False
        await session.execute(update(memberships).where(
            memberships.c.team_id == team_id, memberships.c.member_id == member_id).values(
            priority=wanted[0], tier=wanted[1]))
    else:
        await session.execute(insert(memberships).values(
            id=uuid.uuid4(), tenant_id=tenant_id, team_id=team_id, member_id=member_id,
            priority=priority, tier=FIRST_TIER if tier is None else tier))
    return True


async def remove_membership(session: AsyncSession, tenant_id: uuid.UUID, team_id: uuid.UUID,
                            member_id: uuid.UUID) -> None:
    await team_row(session, tenant_id, team_id)
    done = await changed_rows(session, delete(memberships).where(
        memberships.c.tenant_id == tenant_id, memberships.c.team_id == team_id,
        memberships.c.member_id == member_id))
    if done == 0:
        raise NotFound("membership")
