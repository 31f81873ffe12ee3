"""Directory administration: tenants, teams, numbers, members, memberships, availability, hours, schedules; checked before written."""

from __future__ import annotations

import re
import uuid
import zoneinfo
from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.config import RoutingSettings, check_strategy
from teamfoned.domain.periods_text import format_periods, overlaps, sort_periods
from teamfoned.domain.phones import MemberPhone, PhoneRejected, validate_phone
from teamfoned.routing.hours import WeeklyPeriod
from teamfoned.store.tables import (
    availability,
    availability_schedules,
    members,
    memberships,
    team_holidays,
    team_hours,
    team_numbers,
    teams,
    tenants,
)

FALLBACK_KINDS = ("dialplan", "number", "announce", "team")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
DID = re.compile(r"^\+?[0-9]{2,20}$")
# context[,extension[,priority]] as Asterisk's Goto takes it.
DIALPLAN_TARGET = re.compile(r"^[A-Za-z0-9_-]+(,[A-Za-z0-9_+*#-]+(,[0-9]+)?)?$")
SOUND = re.compile(r"^[A-Za-z0-9_/-]{1,100}$")
LIMITS = {"ring_time": (5, 300), "max_wait": (10, 3600), "wrap_up": (0, 3600)}
AUTO_UNAVAILABLE_MAX = 100


class _Clear:
    def __repr__(self) -> str:
        return "CLEAR"


# Passed to TeamSettings.with_changes to set an optional setting back to None, because None
# there means "leave unchanged" (what an option not given on the command line sends).
CLEAR: Any = _Clear()


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
    timezone: str = "UTC"
    # None: calls outside opening hours go to the shipped teamfoned-closed context.
    closed_kind: str | None = None
    closed_target: str | None = None
    auto_unavailable_after: int | None = None
    confirm_recording: str | None = None

    def __post_init__(self) -> None:
        # A dialplan kind without a target means the shipped closed context, which is what
        # None means too: one spelling, so a stored team compares equal to its directory entry.
        if self.closed_kind == "dialplan" and self.closed_target is None:
            object.__setattr__(self, "closed_kind", None)

    @classmethod
    def defaults(cls, routing: RoutingSettings, label: str) -> TeamSettings:
        return cls(label=label, strategy=routing.strategy, ring_time=routing.ring_time,
                   max_wait=routing.max_wait, wrap_up=routing.wrap_up,
                   confirm_calls=routing.confirm_calls)

    def with_changes(self, **changes: Any) -> TeamSettings:
        unknown = set(changes) - set(self.__dataclass_fields__)
        if unknown:
            raise AdminError(f"unknown team setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **{k: None if v is CLEAR else v
                                for k, v in changes.items() if v is not None})

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
        found += _target_problems("fallback", self.fallback_kind, self.fallback_target)
        if self.closed_kind is not None:
            found += _target_problems("closed", self.closed_kind, self.closed_target)
        elif self.closed_target is not None:
            found.append(f"closed: a target needs a kind ({', '.join(FALLBACK_KINDS)})")
        try:
            check_timezone(self.timezone)
        except AdminError as exc:
            found.append(f"timezone: {exc}")
        auto = self.auto_unavailable_after
        if auto is not None and (not isinstance(auto, int) or isinstance(auto, bool)
                                 or not 1 <= auto <= AUTO_UNAVAILABLE_MAX):
            found.append(f"auto_unavailable_after: must be unanswered calls in a row from 1 to "
                         f"{AUTO_UNAVAILABLE_MAX}, or off (got {auto!r})")
        recording = self.confirm_recording
        if recording is not None and (not isinstance(recording, str) or not SOUND.match(recording)):
            found.append(f"confirm_recording: {recording!r} is not a sound name "
                         "(letters, digits, _ - /, as Asterisk names sounds, without extension)")
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
            "fallback_target": self.fallback_target, "timezone": self.timezone,
            "closed_kind": self.closed_kind, "closed_target": self.closed_target,
            "auto_unavailable_after": self.auto_unavailable_after,
            "confirm_recording": self.confirm_recording,
        }

    @classmethod
    def from_row(cls, row: Any) -> TeamSettings:
        return cls(label=row.label, strategy=row.strategy, ring_time=row.ring_time_s,
                   max_wait=row.max_wait_s, wrap_up=row.wrap_up_s,
                   confirm_calls=row.confirm_calls, fallback_kind=row.fallback_kind,
                   fallback_target=row.fallback_target, timezone=row.timezone or "UTC",
                   closed_kind=row.closed_kind, closed_target=row.closed_target,
                   auto_unavailable_after=row.auto_unavailable_after,
                   confirm_recording=row.confirm_recording)


def _target_problems(what: str, kind: Any, target: Any) -> list[str]:
    """The fallback's rules, shared by the closed fallback: the runner reads both the same way."""
    if kind not in FALLBACK_KINDS:
        return [f"{what}: unknown kind {kind!r} (choose from {', '.join(FALLBACK_KINDS)})"]
    if target is not None and not isinstance(target, str):
        return [f"{what}: target {target!r} must be text"]
    if kind == "dialplan" and target is not None and not DIALPLAN_TARGET.match(target):
        return [f"{what}: {target!r} is not context[,extension[,priority]]"]
    if kind == "number" and (target is None or not DID.match(target)):
        return [f"{what}: {target!r} is not a phone number"]
    if kind == "team" and (target is None or not NAME.match(target)):
        return [f"{what}: {target!r} is not a team name"]
    if kind == "announce" and target is not None and not SOUND.match(target):
        return [f"{what}: {target!r} is not a sound name"]
    return []


# Files in the zone database that are not zones every node reads the same way.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_ZONES


def check_timezone(name: Any) -> str:
    """An IANA time zone name this machine knows (Europe/Amsterdam, UTC)."""
    # The list, not just ZoneInfo(name), which would also open any file under the zone path.
    if not isinstance(name, str) or name not in _zone_names():
        raise AdminError(f"{name!r} is not an IANA time zone name such as Europe/Amsterdam")
    return name


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


# -- opening hours, holidays, availability schedules --------------------------------------------

def check_periods(periods: Iterable[WeeklyPeriod]) -> list[WeeklyPeriod]:
    """Weekly periods, sorted; overlapping ones are refused (almost always a typing mistake)."""
    periods = list(periods)
    if any(not isinstance(p, WeeklyPeriod) for p in periods):
        raise AdminError("periods must be weekly periods (a day, a start and an end time)")
    found = overlaps(periods)
    if found:
        raise AdminError("; ".join(found) + ": make them one period")
    return sort_periods(periods)


def check_holiday_name(name: Any) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 100:
        raise AdminError("a holiday name must be text of 1 to 100 characters")
    return name.strip()


def check_day(day: Any) -> date:
    # A datetime is a date too, but a holiday is a whole day: refuse a time rather than drop it.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise AdminError(f"{day!r} is not a date YYYY-MM-DD")
    return day


def _periods_of(rows: Iterable[Any]) -> list[WeeklyPeriod]:
    found = []
    for weekday, starts, ends in rows:
        try:
            found.append(WeeklyPeriod(weekday, starts, ends))
        except ValueError:
            continue  # a hand-edited row the routing core ignores too; entry refuses these
    return sort_periods(found)


async def team_hours_of(session: AsyncSession, team: uuid.UUID) -> list[WeeklyPeriod]:
    return _periods_of((await session.execute(
        select(team_hours.c.weekday, team_hours.c.opens, team_hours.c.closes)
        .where(team_hours.c.team_id == team))).all())


async def replace_team_hours(session: AsyncSession, tenant: uuid.UUID, team: uuid.UUID,
                             periods: Iterable[WeeklyPeriod]) -> bool:
    """Make the team's opening hours exactly `periods` (none: always open); False if they were."""
    periods = check_periods(periods)
    if await team_hours_of(session, team) == periods:
        return False
    await session.execute(delete(team_hours).where(team_hours.c.team_id == team))
    if periods:
        await session.execute(insert(team_hours), [
            {"id": uuid.uuid4(), "tenant_id": tenant, "team_id": team, "weekday": p.weekday,
             "opens": p.starts, "closes": p.ends} for p in periods])
    return True


async def set_team_hours(session: AsyncSession, tenant: uuid.UUID, team: str,
                         periods: Iterable[WeeklyPeriod]) -> bool:
    """Replace the team's opening hours; an empty list means always open."""
    row = await team_row(session, tenant, team)
    return await replace_team_hours(session, tenant, row.id, periods)


async def list_team_hours(session: AsyncSession, tenant: uuid.UUID, team: str) -> list[WeeklyPeriod]:
    return await team_hours_of(session, (await team_row(session, tenant, team)).id)


async def holidays_of(session: AsyncSession, team: uuid.UUID) -> dict[date, str | None]:
    return dict((await session.execute(
        select(team_holidays.c.day, team_holidays.c.name)
        .where(team_holidays.c.team_id == team).order_by(team_holidays.c.day))).all())


async def add_holiday(session: AsyncSession, tenant: uuid.UUID, team: str, day: date,
                      name: str | None = None) -> bool:
    """Close the team all day on `day`; on a day that already is a holiday, only rename it.

    Returns whether the day was new, so scripts can add the same holidays every year safely.
    """
    day, name = check_day(day), check_holiday_name(name)
    row = await team_row(session, tenant, team)
    have = await holidays_of(session, row.id)
    if day in have:
        if name is not None and have[day] != name:
            await session.execute(update(team_holidays).where(
                team_holidays.c.team_id == row.id, team_holidays.c.day == day).values(name=name))
        return False
    await session.execute(insert(team_holidays).values(
        id=uuid.uuid4(), tenant_id=tenant, team_id=row.id, day=day, name=name))
    return True


async def remove_holiday(session: AsyncSession, tenant: uuid.UUID, team: str, day: date) -> None:
    day = check_day(day)
    row = await team_row(session, tenant, team)
    done = await session.execute(delete(team_holidays).where(
        team_holidays.c.team_id == row.id, team_holidays.c.day == day))
    if done.rowcount == 0:
        raise AdminError(f"{day.isoformat()} is not a holiday of team {team!r}")


async def list_holidays(session: AsyncSession, tenant: uuid.UUID,
                        team: str) -> list[tuple[date, str | None]]:
    return list((await holidays_of(session, (await team_row(session, tenant, team)).id)).items())


async def schedule_of(session: AsyncSession, member: uuid.UUID) -> tuple[list[WeeklyPeriod], str | None]:
    """A member's schedule periods and its time zone (None without a schedule)."""
    rows = (await session.execute(
        select(availability_schedules.c.weekday, availability_schedules.c.starts,
               availability_schedules.c.ends, availability_schedules.c.timezone)
        .where(availability_schedules.c.member_id == member))).all()
    zones = sorted({r.timezone for r in rows})
    return _periods_of((r[0], r[1], r[2]) for r in rows), (zones[0] if zones else None)


async def replace_member_schedule(session: AsyncSession, tenant: uuid.UUID, member: uuid.UUID,
                                  periods: Iterable[WeeklyPeriod], timezone: str | None) -> bool:
    """Make the member's schedule exactly `periods` in `timezone` (none: no schedule).

    False when it already was. A changed schedule is applied at once, not at its next boundary.
    """
    periods = check_periods(periods)
    if periods:
        if timezone is None:
            raise AdminError("a schedule needs a time zone such as Europe/Amsterdam: its times "
                             "are wall-clock times there")
        check_timezone(timezone)
    else:
        timezone = None
    if await schedule_of(session, member) == (periods, timezone):
        return False
    await session.execute(delete(availability_schedules).where(
        availability_schedules.c.member_id == member))
    if periods:
        await session.execute(insert(availability_schedules), [
            {"id": uuid.uuid4(), "tenant_id": tenant, "member_id": member, "weekday": p.weekday,
             "starts": p.starts, "ends": p.ends, "timezone": timezone} for p in periods])
    # Forget the last applied boundary: the schedule keeper then applies the new schedule's
    # state now (a manual change made since its last boundary still holds).
    await session.execute(update(availability).where(availability.c.member_id == member)
                          .values(schedule_applied_at=None))
    return True


async def set_member_schedule(session: AsyncSession, tenant: uuid.UUID, member_ref: str,
                              periods: Iterable[WeeklyPeriod], timezone: str | None) -> bool:
    """Replace a member's availability schedule; an empty list clears it."""
    member = await member_id(session, tenant, member_ref)
    return await replace_member_schedule(session, tenant, member, periods, timezone)


async def member_schedule(session: AsyncSession, tenant: uuid.UUID,
                          member_ref: str) -> tuple[list[WeeklyPeriod], str | None]:
    return await schedule_of(session, await member_id(session, tenant, member_ref))


def describe_periods(periods: Iterable[WeeklyPeriod]) -> str:
    """The periods in the text syntax, for messages and listings."""
    return ", ".join(format_periods(periods))
