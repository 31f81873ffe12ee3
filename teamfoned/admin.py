"""Directory administration: tenants, teams, numbers, members, memberships, availability; checked before written."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.config import RoutingSettings, check_strategy
from teamfoned.store.tables import (
    availability,
    members,
    memberships,
    team_numbers,
    teams,
    tenants,
)
from teamfoned.telephony.dialstring import MemberPhone, PhoneRejected, validate_phone

FALLBACK_KINDS = ("dialplan", "number", "announce", "team")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
DID = re.compile(r"^\+?[0-9]{2,20}$")
# context[,extension[,priority]] as Asterisk's Goto takes it.
DIALPLAN_TARGET = re.compile(r"^[A-Za-z0-9_-]+(,[A-Za-z0-9_+*#-]+(,[0-9]+)?)?$")
SOUND = re.compile(r"^[A-Za-z0-9_/-]{1,100}$")
LIMITS = {"ring_time": (5, 300), "max_wait": (10, 3600), "wrap_up": (0, 3600)}


class AdminError(ValueError):
    """An administration request that cannot be carried out, in the administrator's words."""


@dataclass(frozen=True)
class PhonePolicy:
    allowed_countries: Collection[str] = ("NL",)
    default_region: str | None = None

    def check(self, raw: str) -> MemberPhone:
        try:
            return validate_phone(raw, allowed_countries=self.allowed_countries,
                                  default_region=self.default_region)
        except PhoneRejected as exc:
            raise AdminError(f"phone refused: {exc}") from None


@dataclass(frozen=True)
class TeamSettings:
    label: str
    strategy: str
    ring_time: int
    max_wait: int
    wrap_up: int
    confirm_calls: bool
    fallback_kind: str = "dialplan"
    fallback_target: str | None = None

    @classmethod
    def defaults(cls, routing: RoutingSettings, label: str) -> TeamSettings:
        return cls(label=label, strategy=routing.strategy, ring_time=routing.ring_time,
                   max_wait=routing.max_wait, wrap_up=routing.wrap_up,
                   confirm_calls=routing.confirm_calls)

    def with_changes(self, **changes: Any) -> TeamSettings:
        unknown = set(changes) - set(self.__dataclass_fields__)
        if unknown:
            raise AdminError(f"unknown team setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def problems(self) -> list[str]:
        found = []
        try:
            check_strategy(self.strategy)
        except ValueError as exc:
            found.append(f"strategy: {exc}")
        for key, (low, high) in LIMITS.items():
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                found.append(f"{key}: must be whole seconds from {low} to {high} (got {value!r})")
        if not isinstance(self.label, str) or not 0 < len(self.label) <= 200:
            found.append("label: must be text of 1 to 200 characters")
        if not isinstance(self.confirm_calls, bool):
            found.append(f"confirm_calls: must be true or false (got {self.confirm_calls!r})")
        kind, target = self.fallback_kind, self.fallback_target
        if kind not in FALLBACK_KINDS:
            found.append(f"fallback: unknown kind {kind!r} (choose from {', '.join(FALLBACK_KINDS)})")
        elif kind == "dialplan" and target is not None and not DIALPLAN_TARGET.match(target):
            found.append(f"fallback: {target!r} is not context[,extension[,priority]]")
        elif kind == "number" and (target is None or not DID.match(target)):
            found.append(f"fallback: {target!r} is not a phone number")
        elif kind == "team" and (target is None or not NAME.match(target)):
            found.append(f"fallback: {target!r} is not a team name")
        elif kind == "announce" and target is not None and not SOUND.match(target):
            found.append(f"fallback: {target!r} is not a sound name")
        return found

    def check(self) -> TeamSettings:
        found = self.problems()
        if found:
            raise AdminError("; ".join(found))
        return self

    def columns(self) -> dict[str, Any]:
        return {
            "label": self.label, "strategy": self.strategy, "ring_time_s": self.ring_time,
            "max_wait_s": self.max_wait, "wrap_up_s": self.wrap_up,
            "confirm_calls": self.confirm_calls, "fallback_kind": self.fallback_kind,
            "fallback_target": self.fallback_target,
        }

    @classmethod
    def from_row(cls, row: Any) -> TeamSettings:
        return cls(label=row.label, strategy=row.strategy, ring_time=row.ring_time_s,
                   max_wait=row.max_wait_s, wrap_up=row.wrap_up_s,
                   confirm_calls=row.confirm_calls, fallback_kind=row.fallback_kind,
                   fallback_target=row.fallback_target)


def check_name(what: str, name: str) -> str:
    if not isinstance(name, str) or not NAME.match(name):
        raise AdminError(f"{what} name {name!r} must be letters, digits, _ . - (at most 100)")
    return name


def check_number(number: str) -> str:
    number = str(number).strip()
    if not DID.match(number):
        raise AdminError(f"team number {number!r} must be digits, optionally with a leading +")
    return number


def now() -> datetime:
    return datetime.now(UTC)


# -- lookups -----------------------------------------------------------------------------------

async def tenant_id(session: AsyncSession, name: str) -> uuid.UUID:
    found = await session.scalar(select(tenants.c.id).where(tenants.c.name == name))
    if found is None:
        raise AdminError(f"no tenant named {name!r}")
    return found


async def team_row(session: AsyncSession, tenant: uuid.UUID, name: str) -> Any:
    row = (await session.execute(
        select(teams).where(teams.c.tenant_id == tenant, teams.c.name == name))).first()
    if row is None:
        raise AdminError(f"no team named {name!r} in this tenant")
    return row


async def member_id(session: AsyncSession, tenant: uuid.UUID, ref: str) -> uuid.UUID:
    """A member by id, or by name when exactly one member of the tenant has it."""
    try:
        as_id = uuid.UUID(ref)
    except ValueError:
        ids = (await session.scalars(select(members.c.id).where(
            members.c.tenant_id == tenant, members.c.name == ref))).all()
        if len(ids) > 1:
            raise AdminError(f"{len(ids)} members are named {ref!r}: use the member id") from None
        if not ids:
            raise AdminError(f"no member named {ref!r} in this tenant") from None
        return ids[0]
    found = await session.scalar(select(members.c.id).where(
        members.c.tenant_id == tenant, members.c.id == as_id))
    if found is None:
        raise AdminError(f"no member with id {ref} in this tenant")
    return found


# -- commands ----------------------------------------------------------------------------------

async def add_tenant(session: AsyncSession, name: str, *, retention_days: int = 90) -> uuid.UUID:
    check_name("tenant", name)
    if not 1 <= retention_days <= 3650:
        raise AdminError("retention must be 1 to 3650 days")
    if await session.scalar(select(tenants.c.id).where(tenants.c.name == name)):
        raise AdminError(f"tenant {name!r} already exists")
    new = uuid.uuid4()
    await session.execute(insert(tenants).values(id=new, name=name, retention_days=retention_days,
                                                 created_at=now()))
    return new


async def list_tenants(session: AsyncSession) -> list[Any]:
    return (await session.execute(select(tenants).order_by(tenants.c.name))).all()


async def add_team(session: AsyncSession, tenant: uuid.UUID, name: str,
                   settings: TeamSettings) -> uuid.UUID:
    check_name("team", name)
    settings.check()
    if (await session.execute(select(teams.c.id).where(
            teams.c.tenant_id == tenant, teams.c.name == name))).first():
        raise AdminError(f"team {name!r} already exists")
    new = uuid.uuid4()
    await session.execute(insert(teams).values(id=new, tenant_id=tenant, name=name,
                                               created_at=now(), **settings.columns()))
    return new


async def set_team(session: AsyncSession, tenant: uuid.UUID, name: str,
                   **changes: Any) -> TeamSettings:
    row = await team_row(session, tenant, name)
    settings = TeamSettings.from_row(row).with_changes(**changes).check()
    await session.execute(update(teams).where(teams.c.id == row.id).values(**settings.columns()))
    return settings


async def list_teams(session: AsyncSession, tenant: uuid.UUID) -> list[Any]:
    return (await session.execute(
        select(teams).where(teams.c.tenant_id == tenant).order_by(teams.c.name))).all()


async def team_numbers_of(session: AsyncSession, team: uuid.UUID) -> list[str]:
    return list((await session.scalars(select(team_numbers.c.number).where(
        team_numbers.c.team_id == team).order_by(team_numbers.c.number))).all())


async def add_number(session: AsyncSession, tenant: uuid.UUID, team: str, number: str) -> None:
    number = check_number(number)
    row = await team_row(session, tenant, team)
    if await session.scalar(select(team_numbers.c.number).where(team_numbers.c.number == number)):
        raise AdminError(f"number {number} is already in use")
    await session.execute(insert(team_numbers).values(number=number, tenant_id=tenant,
                                                      team_id=row.id))


async def remove_number(session: AsyncSession, tenant: uuid.UUID, number: str) -> None:
    number = check_number(number)
    done = await session.execute(delete(team_numbers).where(
        team_numbers.c.tenant_id == tenant, team_numbers.c.number == number))
    if done.rowcount == 0:
        raise AdminError(f"number {number} is not a number of this tenant")


async def add_member(session: AsyncSession, tenant: uuid.UUID, name: str, phone: MemberPhone, *,
                     is_admin: bool = False, available: bool = False,
                     until: datetime | None = None) -> uuid.UUID:
    name = name.strip() if isinstance(name, str) else name
    if not isinstance(name, str) or not 0 < len(name) <= 200:
        raise AdminError("member name must be text of 1 to 200 characters")
    new = uuid.uuid4()
    moment = now()
    await session.execute(insert(members).values(
        id=new, tenant_id=tenant, name=name, phone=phone.phone, phone_kind=phone.kind,
        is_admin=is_admin, created_at=moment))
    await session.execute(insert(availability).values(
        member_id=new, available=available, until=until, changed_at=moment))
    return new


async def list_members(session: AsyncSession, tenant: uuid.UUID) -> list[Any]:
    stmt = (select(members.c.id, members.c.name, members.c.phone_kind, members.c.phone,
                   members.c.is_admin, availability.c.available, availability.c.until)
            .outerjoin(availability, availability.c.member_id == members.c.id)
            .where(members.c.tenant_id == tenant).order_by(members.c.name, members.c.id))
    return (await session.execute(stmt)).all()


async def remove_member(session: AsyncSession, tenant: uuid.UUID, ref: str) -> uuid.UUID:
    """Erase a member: memberships and availability go with them, history forgets them."""
    found = await member_id(session, tenant, ref)
    await session.execute(delete(members).where(members.c.id == found))
    return found


async def add_membership(session: AsyncSession, tenant: uuid.UUID, team: str, ref: str,
                         priority: int = 0) -> None:
    """Put a member in a team, or change their priority there."""
    row = await team_row(session, tenant, team)
    member = await member_id(session, tenant, ref)
    done = await session.execute(update(memberships).where(
        memberships.c.team_id == row.id, memberships.c.member_id == member).values(
        priority=priority))
    if done.rowcount == 0:
        await session.execute(insert(memberships).values(
            id=uuid.uuid4(), tenant_id=tenant, team_id=row.id, member_id=member,
            priority=priority))


async def remove_membership(session: AsyncSession, tenant: uuid.UUID, team: str,
                            ref: str) -> None:
    row = await team_row(session, tenant, team)
    member = await member_id(session, tenant, ref)
    done = await session.execute(delete(memberships).where(
        memberships.c.team_id == row.id, memberships.c.member_id == member))
    if done.rowcount == 0:
        raise AdminError(f"{ref} is not a member of team {team!r}")


async def set_availability(session: AsyncSession, tenant: uuid.UUID, ref: str, available: bool,
                           until: datetime | None = None) -> None:
    if until is not None and until.tzinfo is None:
        raise AdminError("until needs a timezone offset (RFC 3339, e.g. 2030-01-01T17:00:00+01:00)")
    member = await member_id(session, tenant, ref)
    values = {"available": available, "until": until if available else None, "reason": "manual",
              "changed_at": now()}
    done = await session.execute(update(availability).where(
        availability.c.member_id == member).values(**values))
    if done.rowcount == 0:
        await session.execute(insert(availability).values(member_id=member, **values))
