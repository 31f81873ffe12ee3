"""The directory file is the truth for the tenants it lists: importing it twice changes nothing the second time."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned import admin
from teamfoned.admin import AdminError, PhonePolicy, TeamSettings
from teamfoned.config import RoutingSettings
from teamfoned.domain.periods_text import (
    PeriodSyntaxError,
    overlaps,
    parse_period,
    sort_periods,
)
from teamfoned.domain.phones import MemberPhone
from teamfoned.routing.hours import WeeklyPeriod
from teamfoned.store.tables import (
    members,
    memberships,
    team_holidays,
    team_numbers,
    teams,
    tenants,
)


class DirectoryError(ValueError):
    """The directory file has problems; nothing was written. `problems` names each entry."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class MemberPlan:
    name: str
    phone: MemberPhone
    is_admin: bool
    available: bool
    until: datetime | None
    # The member's availability schedule (empty: none) and the zone its times are read in.
    schedule: list[WeeklyPeriod] = field(default_factory=list)
    schedule_timezone: str | None = None


@dataclass
class TeamPlan:
    name: str
    settings: TeamSettings
    numbers: list[str]
    members: dict[str, int]  # member name -> priority
    hours: list[WeeklyPeriod] = field(default_factory=list)  # empty: always open
    holidays: dict[date, str | None] = field(default_factory=dict)  # day -> name


@dataclass
class TenantPlan:
    name: str
    retention_days: int
    members: dict[str, MemberPlan] = field(default_factory=dict)
    teams: dict[str, TeamPlan] = field(default_factory=dict)


def _keys(where: str, entry: Any, allowed: set[str], problems: list[str]) -> bool:
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be a mapping")
        return False
    for extra in sorted(set(entry) - allowed):
        problems.append(f"{where}.{extra}: unknown key")
    return True


def _periods(where: str, raw: Any, problems: list[str]) -> list[WeeklyPeriod]:
    """Entries like "mon-fri 08:00-17:00"; every bad one is listed with its place."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        problems.append(f"{where}: must be a list of entries like 'mon-fri 08:00-17:00'")
        return []
    found: list[WeeklyPeriod] = []
    for i, entry in enumerate(raw):
        try:
            found.extend(parse_period(entry))
        except PeriodSyntaxError as exc:
            problems.append(f"{where}[{i}]: {exc}")
    problems.extend(f"{where}: {overlap}: make them one period" for overlap in overlaps(found))
    return sort_periods(found)


def _schedule(where: str, raw: Any, problems: list[str]) -> tuple[list[WeeklyPeriod], str | None]:
    if raw is None or not _keys(where, raw, {"timezone", "periods"}, problems):
        return [], None
    periods = _periods(f"{where}.periods", raw.get("periods"), problems)
    zone = raw.get("timezone")
    if zone is None:
        if periods:
            problems.append(f"{where}.timezone: a schedule needs a time zone such as "
                            "Europe/Amsterdam")
        return periods, None
    try:
        admin.check_timezone(zone)
    except AdminError as exc:
        problems.append(f"{where}.timezone: {exc}")
    return periods, zone if periods else None


def _holidays(where: str, raw: Any, problems: list[str]) -> dict[date, str | None]:
    """Plain dates, or {date, name} mappings."""
    if raw is None:
        return {}
    if not isinstance(raw, list):
        problems.append(f"{where}: must be a list of dates (2030-12-25) or {{date, name}}")
        return {}
    found: dict[date, str | None] = {}
    for i, entry in enumerate(raw):
        hw = f"{where}[{i}]"
        day, name = entry, None
        if isinstance(entry, dict):
            if not _keys(hw, entry, {"date", "name"}, problems):
                continue
            day, name = entry.get("date"), entry.get("name")
        if isinstance(day, str):
            try:
                day = date.fromisoformat(day)
            except ValueError:
                pass  # reported by check_day below, with the value as written
        try:
            day, name = admin.check_day(day), admin.check_holiday_name(name)
        except AdminError as exc:
            problems.append(f"{hw}: {exc}")
            continue
        if day in found:
            problems.append(f"{hw}: {day.isoformat()} is listed twice")
        found[day] = name
    return found


def _target(value: Any) -> Any:
    # YAML reads an unquoted +31201234567 as a number; the administrator meant the digits.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def plan(raw: Any, *, phones: PhonePolicy, defaults: RoutingSettings) -> list[TenantPlan]:
    """Check the whole file; raise DirectoryError listing every bad entry."""
    problems: list[str] = []
    if not _keys("(file)", raw, {"tenants"}, problems) or not isinstance(raw.get("tenants"), list):
        raise DirectoryError(problems or ["tenants: must be a list"])
    plans: list[TenantPlan] = []
    numbers_seen: dict[str, str] = {}
    for ti, t in enumerate(raw["tenants"]):
        tw = f"tenants[{ti}]"
        if not _keys(tw, t, {"name", "retention_days", "members", "teams"}, problems):
            continue
        try:
            tname = admin.check_name("tenant", t.get("name"))
        except AdminError as exc:
            problems.append(f"{tw}.name: {exc}")
            continue
        tw = f"tenant {tname}"
        if any(p.name == tname for p in plans):
            problems.append(f"{tw}: listed twice")
        retention = t.get("retention_days", 90)
        if not isinstance(retention, int) or not 1 <= retention <= 3650:
            problems.append(f"{tw}.retention_days: must be 1 to 3650")
        tp = TenantPlan(tname, retention)
        plans.append(tp)
        for mi, m in enumerate(t.get("members") or []):
            mw = f"{tw}.members[{mi}]"
            if not _keys(mw, m, {"name", "phone", "admin", "available", "until", "schedule"},
                         problems):
                continue
            name = m.get("name")
            if not isinstance(name, str) or not 0 < len(name.strip()) <= 200:
                problems.append(f"{mw}.name: must be text of 1 to 200 characters")
                continue
            name = name.strip()
            mw = f"{tw}.member {name}"
            if name in tp.members:
                problems.append(f"{mw}: listed twice (names identify members in the file)")
            schedule, schedule_zone = _schedule(f"{mw}.schedule", m.get("schedule"), problems)
            try:
                phone = phones.check(str(m.get("phone", "")))
            except AdminError as exc:
                problems.append(f"{mw}.phone: {exc}")
                continue
            until = m.get("until")
            if until is not None:
                if isinstance(until, str):
                    try:
                        until = datetime.fromisoformat(until)
                    except ValueError:
                        until = None
                if not isinstance(until, datetime) or until.tzinfo is None:
                    problems.append(f"{mw}.until: must be an RFC 3339 time with offset")
                    continue
            flags = {k: m.get(k, False) for k in ("admin", "available")}
            bad = [k for k, v in flags.items() if not isinstance(v, bool)]
            problems.extend(f"{mw}.{k}: must be true or false" for k in bad)
            tp.members[name] = MemberPlan(name, phone, flags["admin"], flags["available"], until,
                                          schedule, schedule_zone)
        for si, s in enumerate(t.get("teams") or []):
            sw = f"{tw}.teams[{si}]"
            allowed = {"name", "label", "strategy", "ring_time", "max_wait", "wrap_up",
                       "confirm_calls", "fallback", "numbers", "members", "timezone", "closed",
                       "auto_unavailable_after", "confirm_recording", "hours", "holidays"}
            if not _keys(sw, s, allowed, problems):
                continue
            try:
                sname = admin.check_name("team", s.get("name"))
            except AdminError as exc:
                problems.append(f"{sw}.name: {exc}")
                continue
            sw = f"{tw}.team {sname}"
            if sname in tp.teams:
                problems.append(f"{sw}: listed twice")
            fallback = s.get("fallback") or {}
            if not _keys(f"{sw}.fallback", fallback, {"kind", "target"}, problems):
                fallback = {}
            # Absent: no closed fallback of its own (the shipped closed context).
            closed = s.get("closed") or {}
            if not _keys(f"{sw}.closed", closed, {"kind", "target"}, problems):
                closed = {}
            # 0 reads as "off", as on the command line.
            auto = s.get("auto_unavailable_after")
            settings = TeamSettings.defaults(defaults, s.get("label") or sname).with_changes(
                **{k: s.get(k) for k in ("strategy", "ring_time", "max_wait", "wrap_up",
                                         "confirm_calls", "timezone", "confirm_recording")},
                fallback_kind=fallback.get("kind"), fallback_target=_target(fallback.get("target")),
                closed_kind=closed.get("kind"), closed_target=_target(closed.get("target")),
                auto_unavailable_after=None if auto == 0 and not isinstance(auto, bool) else auto)
            problems.extend(f"{sw}.{p}" for p in settings.problems())
            hours = _periods(f"{sw}.hours", s.get("hours"), problems)
            holidays = _holidays(f"{sw}.holidays", s.get("holidays"), problems)
            numbers = []
            for number in s.get("numbers") or []:
                try:
                    number = admin.check_number(number)
                except AdminError as exc:
                    problems.append(f"{sw}.numbers: {exc}")
                    continue
                if number in numbers_seen:
                    problems.append(f"{sw}.numbers: {number} is also used by {numbers_seen[number]}")
                numbers_seen[number] = f"{tname}/{sname}"
                numbers.append(number)
            team_members: dict[str, int] = {}
            for ei, e in enumerate(s.get("members") or []):
                ew = f"{sw}.members[{ei}]"
                if isinstance(e, str):
                    e = {"name": e}
                if not _keys(ew, e, {"name", "priority"}, problems):
                    continue
                priority = e.get("priority", ei + 1)
                if not isinstance(priority, int) or isinstance(priority, bool):
                    problems.append(f"{ew}.priority: must be a whole number")
                elif e.get("name") not in tp.members and not any(
                        p.startswith(f"{tw}.member {e.get('name')}.") for p in problems):
                    problems.append(f"{ew}: no member named {e.get('name')!r} in this tenant")
                else:
                    team_members[e["name"]] = priority
            tp.teams[sname] = TeamPlan(sname, settings, numbers, team_members, hours, holidays)
    if problems:
        raise DirectoryError(problems)
    return plans


async def apply(session: AsyncSession, plans: list[TenantPlan]) -> list[str]:
    """Make the database match the plans; returns what changed (empty: already in sync)."""
    changes: list[str] = []
    for tp in plans:
        tenant = await session.scalar(select(tenants.c.id).where(tenants.c.name == tp.name))
        if tenant is None:
            tenant = await admin.add_tenant(session, tp.name, retention_days=tp.retention_days)
            changes.append(f"tenant {tp.name}: created")
        else:
            done = await session.execute(update(tenants).where(
                tenants.c.id == tenant, tenants.c.retention_days != tp.retention_days).values(
                retention_days=tp.retention_days))
            if done.rowcount:
                changes.append(f"tenant {tp.name}: retention set to {tp.retention_days} days")
        changes += await _sync_members(session, tenant, tp)
        changes += await _sync_teams(session, tenant, tp)
    return changes


async def _sync_members(session: AsyncSession, tenant: uuid.UUID, tp: TenantPlan) -> list[str]:
    changes = []
    existing: dict[str, list[Any]] = {}
    for row in (await session.execute(select(members).where(members.c.tenant_id == tenant))).all():
        existing.setdefault(row.name, []).append(row)
    for name, rows in existing.items():
        if name not in tp.members:
            for row in rows:
                await session.execute(delete(members).where(members.c.id == row.id))
            changes.append(f"tenant {tp.name}: member {name} removed")
        elif len(rows) > 1:
            raise DirectoryError([f"tenant {tp.name}: {len(rows)} members in the database are "
                                  f"named {name!r}; rename or remove all but one first"])
    for name, mp in tp.members.items():
        rows = existing.get(name)
        if not rows:
            # Initial availability only: afterwards it is the member's own choice.
            await admin.add_member(session, tenant, name, mp.phone, is_admin=mp.is_admin,
                                   available=mp.available, until=mp.until)
            changes.append(f"tenant {tp.name}: member {name} added")
            continue
        row = rows[0]
        if (row.phone_kind, row.phone, row.is_admin) != (mp.phone.kind, mp.phone.phone, mp.is_admin):
            await session.execute(update(members).where(members.c.id == row.id).values(
                phone_kind=mp.phone.kind, phone=mp.phone.phone, is_admin=mp.is_admin))
            changes.append(f"tenant {tp.name}: member {name} updated")
    ids = {r.name: r.id for r in (await session.execute(
        select(members.c.name, members.c.id).where(members.c.tenant_id == tenant))).all()}
    for name, mp in tp.members.items():
        if await admin.replace_member_schedule(session, tenant, ids[name], mp.schedule,
                                               mp.schedule_timezone):
            changes.append(f"tenant {tp.name}: member {name} schedule " + (
                f"set to {admin.describe_periods(mp.schedule)} ({mp.schedule_timezone})"
                if mp.schedule else "cleared"))
    return changes


async def _sync_teams(session: AsyncSession, tenant: uuid.UUID, tp: TenantPlan) -> list[str]:
    changes = []
    rows = {r.name: r for r in (await session.execute(
        select(teams).where(teams.c.tenant_id == tenant))).all()}
    for name, row in rows.items():
        if name not in tp.teams:
            await session.execute(delete(teams).where(teams.c.id == row.id))
            changes.append(f"tenant {tp.name}: team {name} removed")
    member_ids = {r.name: r.id for r in (await session.execute(
        select(members.c.name, members.c.id).where(members.c.tenant_id == tenant))).all()}
    for name, plan_ in tp.teams.items():
        where = f"tenant {tp.name}: team {name}"
        row = rows.get(name)
        if row is None:
            team = await admin.add_team(session, tenant, name, plan_.settings)
            changes.append(f"{where} created")
        else:
            team = row.id
            if TeamSettings.from_row(row) != plan_.settings:
                await session.execute(update(teams).where(teams.c.id == team).values(
                    **plan_.settings.columns()))
                changes.append(f"{where} settings updated")
        if await admin.replace_team_hours(session, tenant, team, plan_.hours):
            changes.append(f"{where} opening hours " + (
                f"set to {admin.describe_periods(plan_.hours)}" if plan_.hours
                else "cleared (always open)"))
        changes += await _sync_holidays(session, tenant, team, where, plan_.holidays)
        have = set(await admin.team_numbers_of(session, team))
        for number in sorted(have - set(plan_.numbers)):
            await session.execute(delete(team_numbers).where(team_numbers.c.number == number))
            changes.append(f"{where} number {number} removed")
        for number in plan_.numbers:
            if number not in have:
                owner = await session.scalar(select(team_numbers.c.team_id).where(
                    team_numbers.c.number == number))
                if owner is not None:
                    # Owned by a team outside this file's view (or moved): let the sysadmin decide.
                    raise DirectoryError([f"{where}: number {number} belongs to another team"])
                await session.execute(insert(team_numbers).values(
                    number=number, tenant_id=tenant, team_id=team))
                changes.append(f"{where} number {number} added")
        current = {r.member_id: r.priority for r in (await session.execute(
            select(memberships.c.member_id, memberships.c.priority).where(
                memberships.c.team_id == team))).all()}
        wanted = {member_ids[n]: p for n, p in plan_.members.items()}
        names = {v: k for k, v in member_ids.items()}
        for mid in set(current) - set(wanted):
            await session.execute(delete(memberships).where(
                memberships.c.team_id == team, memberships.c.member_id == mid))
            changes.append(f"{where}: {names.get(mid, mid)} left")
        for mid, priority in wanted.items():
            if mid not in current:
                await session.execute(insert(memberships).values(
                    id=uuid.uuid4(), tenant_id=tenant, team_id=team, member_id=mid,
                    priority=priority))
                changes.append(f"{where}: {names[mid]} joined (priority {priority})")
            elif current[mid] != priority:
                await session.execute(update(memberships).where(
                    memberships.c.team_id == team, memberships.c.member_id == mid).values(
                    priority=priority))
                changes.append(f"{where}: {names[mid]} priority {priority}")
    return changes


async def _sync_holidays(session: AsyncSession, tenant: uuid.UUID, team: uuid.UUID, where: str,
                         wanted: dict[date, str | None]) -> list[str]:
    changes = []
    have = await admin.holidays_of(session, team)
    for day in sorted(set(have) - set(wanted)):
        await session.execute(delete(team_holidays).where(
            team_holidays.c.team_id == team, team_holidays.c.day == day))
        changes.append(f"{where} holiday {day.isoformat()} removed")
    for day, name in sorted(wanted.items()):
        label = f" ({name})" if name else ""
        if day not in have:
            await session.execute(insert(team_holidays).values(
                id=uuid.uuid4(), tenant_id=tenant, team_id=team, day=day, name=name))
            changes.append(f"{where} holiday {day.isoformat()} added{label}")
        elif have[day] != name:
            await session.execute(update(team_holidays).where(
                team_holidays.c.team_id == team, team_holidays.c.day == day).values(name=name))
            changes.append(f"{where} holiday {day.isoformat()} renamed{label}")
    return changes


async def import_directory(session: AsyncSession, raw: Any, *, phones: PhonePolicy,
                           defaults: RoutingSettings) -> list[str]:
    """Check the file, then apply it inside the caller's transaction (all or nothing)."""
    return await apply(session, plan(raw, phones=phones, defaults=defaults))
