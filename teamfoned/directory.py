"""The directory file is the truth for the tenants it lists: importing it twice changes nothing the second time."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from teamfoned.domain.errors import AlreadyExists, Invalid
from teamfoned.domain.members import PhonePolicy, check_member_name, check_priority, check_tier
from teamfoned.domain.names import canonical_number, check_name
from teamfoned.domain.periods_text import (
    PeriodSyntaxError,
    overlaps,
    parse_period,
    sort_periods,
)
from teamfoned.domain.phones import MemberPhone, PhoneKind, PhoneRejected, check_endpoint_name
from teamfoned.domain.team_settings import (
    DEFAULT_MOH_CLASSES,
    SHIPPED_FALLBACK_CONTEXTS,
    FallbackPolicy,
    RoutingDefaults,
    TeamSettings,
)
from teamfoned.domain.tenants import DEFAULT_RETENTION_DAYS, check_retention
from teamfoned.domain.timetable import check_day, check_holiday_name, check_timezone, describe_periods
from teamfoned.routing.hours import WeeklyPeriod
from teamfoned.routing.tiers import FIRST_TIER
from teamfoned.store import directory_repo, endpoints_repo, hours_repo, members_repo, tenants_repo


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
    tiers: dict[str, int] = field(default_factory=dict)  # member name -> tier (absent: 1)


@dataclass
class TenantPlan:
    name: str
    retention_days: int
    members: dict[str, MemberPlan] = field(default_factory=dict)
    teams: dict[str, TeamPlan] = field(default_factory=dict)
    # The SIP endpoints assigned to the tenant; None: not listed, the assignments stay as they are.
    endpoints: set[str] | None = None
    # The availability line asks the tenant's members for their PIN.
    phone_pin_required: bool = False


def _refused(where: str, exc: Invalid) -> list[str]:
    """The refusal's reasons, each at its place in the file."""
    return [f"{where}.{field}: {reason}" if field else f"{where}: {reason}"
            for field, reason in exc.fields]


def _refusals(check: Any, value: Any, where: str, problems: list[str]) -> bool:
    """Run one domain check; True (and the reasons listed) when it refused the value."""
    try:
        check(value)
    except Invalid as exc:
        problems.extend(_refused(where, exc))
        return True
    return False


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
    _refusals(check_timezone, zone, where, problems)
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
            day, name = check_day(day), check_holiday_name(name)
        except Invalid as exc:
            problems.append(f"{hw}: {exc}")
            continue
        if day in found:
            problems.append(f"{hw}: {day.isoformat()} is listed twice")
        found[day] = name
    return found


def _target(value: Any) -> Any:
    # YAML reads an unquoted +31201234567 as a number; the administrator meant the digits.
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _endpoints(where: str, raw: Any, trunk_template: str, seen: dict[str, str], tenant: str,
               problems: list[str]) -> set[str]:
    """The tenant's SIP endpoint names: valid, never the trunk, in no other tenant of the file."""
    if not isinstance(raw, list):
        problems.append(f"{where}: must be a list of PJSIP endpoint names")
        return set()
    found = set()
    for name in raw:
        try:
            name = check_endpoint_name(str(name), trunk_template=trunk_template)
        except PhoneRejected as exc:
            problems.append(f"{where}: {exc}")
            continue
        if name in seen:
            problems.append(f"{where}: {name} is also listed by tenant {seen[name]}")
        seen[name] = tenant
        found.add(name)
    return found


def plan(raw: Any, *, phones: PhonePolicy, defaults: RoutingDefaults,
         fallbacks: FallbackPolicy) -> list[TenantPlan]:
    """Check the whole file; raise DirectoryError listing every bad entry."""
    problems: list[str] = []
    if not _keys("(file)", raw, {"tenants"}, problems) or not isinstance(raw.get("tenants"), list):
        raise DirectoryError(problems or ["tenants: must be a list"])
    plans: list[TenantPlan] = []
    numbers_seen: dict[str, str] = {}
    endpoints_seen: dict[str, str] = {}
    for ti, t in enumerate(raw["tenants"]):
        tw = f"tenants[{ti}]"
        if not _keys(tw, t, {"name", "retention_days", "endpoints", "members", "teams",
                             "phone_pin_required"}, problems):
            continue
        try:
            tname = check_name("tenant", t.get("name"))
        except Invalid as exc:
            problems.extend(_refused(tw, exc))
            continue
        tw = f"tenant {tname}"
        if any(p.name == tname for p in plans):
            problems.append(f"{tw}: listed twice")
        retention = t.get("retention_days", DEFAULT_RETENTION_DAYS)
        _refusals(check_retention, retention, tw, problems)
        tp = TenantPlan(tname, retention)
        pin_required = t.get("phone_pin_required", False)
        if isinstance(pin_required, bool):
            tp.phone_pin_required = pin_required
        else:
            problems.append(f"{tw}.phone_pin_required: must be true or false")
        plans.append(tp)
        if "endpoints" in t:
            tp.endpoints = _endpoints(f"{tw}.endpoints", t["endpoints"], phones.trunk_template,
                                      endpoints_seen, tname, problems)
        for mi, m in enumerate(t.get("members") or []):
            mw = f"{tw}.members[{mi}]"
            if not _keys(mw, m, {"name", "phone", "admin", "available", "until", "schedule"},
                         problems):
                continue
            try:
                name = check_member_name(m.get("name"))
            except Invalid as exc:
                problems.extend(_refused(mw, exc))
                continue
            mw = f"{tw}.member {name}"
            if name in tp.members:
                problems.append(f"{mw}: listed twice (names identify members in the file)")
            schedule, schedule_zone = _schedule(f"{mw}.schedule", m.get("schedule"), problems)
            try:
                phone = phones.check(str(m.get("phone", "")))
            except Invalid as exc:
                problems.extend(_refused(mw, exc))
                continue
            if (phone.kind == PhoneKind.SIP and tp.endpoints is not None
                    and phone.phone not in tp.endpoints):
                problems.append(f"{mw}.phone: SIP endpoint {phone.phone!r} is not in the "
                                "tenant's endpoints")
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
                       "auto_unavailable_after", "confirm_recording", "service_level_seconds",
                       "wait_when_none_available", "announce_position_every", "language",
                       "next_tier_after", "waiting_sound", "moh_class", "greeting",
                       "announce_expected_wait", "callback_key", "callback_attempts",
                       "callback_retry_after", "hours", "holidays"}
            if not _keys(sw, s, allowed, problems):
                continue
            try:
                sname = check_name("team", s.get("name"))
            except Invalid as exc:
                problems.extend(_refused(sw, exc))
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
                                         "confirm_calls", "timezone", "confirm_recording",
                                         "service_level_seconds", "wait_when_none_available",
                                         "announce_position_every", "language",
                                         "next_tier_after", "waiting_sound", "moh_class",
                                         "greeting", "announce_expected_wait", "callback_attempts",
                                         "callback_retry_after")},
                callback_key=_target(s.get("callback_key")),
                fallback_kind=fallback.get("kind"), fallback_target=_target(fallback.get("target")),
                closed_kind=closed.get("kind"), closed_target=_target(closed.get("target")),
                auto_unavailable_after=None if auto == 0 and not isinstance(auto, bool) else auto)
            problems.extend(f"{sw}.{key}: {reason}" for key, reason in settings.problems(fallbacks))
            hours = _periods(f"{sw}.hours", s.get("hours"), problems)
            holidays = _holidays(f"{sw}.holidays", s.get("holidays"), problems)
            numbers = []
            for number in s.get("numbers") or []:
                try:
                    number = canonical_number(number, default_region=phones.default_region)
                except Invalid as exc:
                    problems.append(f"{sw}.numbers: {exc}")
                    continue
                if number in numbers_seen:
                    problems.append(f"{sw}.numbers: {number} is also used by {numbers_seen[number]}")
                numbers_seen[number] = f"{tname}/{sname}"
                numbers.append(number)
            team_members: dict[str, int] = {}
            team_tiers: dict[str, int] = {}
            for ei, e in enumerate(s.get("members") or []):
                ew = f"{sw}.members[{ei}]"
                if isinstance(e, str):
                    e = {"name": e}
                if not _keys(ew, e, {"name", "priority", "tier"}, problems):
                    continue
                priority = e.get("priority", ei + 1)
                tier = e.get("tier", FIRST_TIER)
                bad_tier = _refusals(check_tier, tier, ew, problems)
                if not isinstance(priority, int) or isinstance(priority, bool):
                    problems.append(f"{ew}.priority: must be a whole number")
                elif _refusals(check_priority, priority, ew, problems) or bad_tier:
                    pass
                elif e.get("name") not in tp.members and not any(
                        p.startswith(f"{tw}.member {e.get('name')}.") for p in problems):
                    problems.append(f"{ew}: no member named {e.get('name')!r} in this tenant")
                else:
                    team_members[e["name"]] = priority
                    team_tiers[e["name"]] = tier
            tp.teams[sname] = TeamPlan(sname, settings, numbers, team_members, hours, holidays,
                                       team_tiers)
    if problems:
        raise DirectoryError(problems)
    return plans


async def apply(session: AsyncSession, plans: list[TenantPlan], *, now: datetime,
                fallbacks: FallbackPolicy) -> list[str]:
    """Make the database match the plans; returns what changed (empty: already in sync)."""
    changes: list[str] = []
    for tp in plans:
        tenant = await tenants_repo.tenant_named(session, tp.name)
        if tenant is None:
            tenant = await tenants_repo.create_tenant(session, tp.name,
                                                      retention_days=tp.retention_days, now=now)
            changes.append(f"tenant {tp.name}: created")
        elif await tenants_repo.set_retention(session, tenant, tp.retention_days):
            changes.append(f"tenant {tp.name}: retention set to {tp.retention_days} days")
        if await tenants_repo.set_phone_pin_required(session, tenant, tp.phone_pin_required):
            changes.append(f"tenant {tp.name}: availability line PIN "
                           f"{'required' if tp.phone_pin_required else 'not required'}")
        changes += await _assign_endpoints(session, tenant, tp)
        changes += await _sync_members(session, tenant, tp, now=now)
        changes += await _sync_teams(session, tenant, tp, now=now, fallbacks=fallbacks)
        changes += await _release_endpoints(session, tenant, tp)
    return changes


async def _assign_endpoints(session: AsyncSession, tenant: uuid.UUID, tp: TenantPlan) -> list[str]:
    """Before the members: their SIP phones must be the tenant's endpoints."""
    changes = []
    for name in sorted(tp.endpoints or ()):
        try:
            if await endpoints_repo.assign(session, name, tenant):
                changes.append(f"tenant {tp.name}: endpoint {name} assigned")
        except AlreadyExists as exc:
            raise DirectoryError([f"tenant {tp.name}.endpoints: {exc}"]) from None
    return changes


async def _release_endpoints(session: AsyncSession, tenant: uuid.UUID, tp: TenantPlan) -> list[str]:
    """After the members: the endpoints the file no longer lists for the tenant."""
    if tp.endpoints is None:
        return []
    changes = []
    for name in sorted(await endpoints_repo.endpoints_of(session, tenant) - tp.endpoints):
        try:
            await endpoints_repo.release(session, name)
        except Invalid as exc:
            raise DirectoryError([f"tenant {tp.name}.endpoints: {exc}"]) from None
        changes.append(f"tenant {tp.name}: endpoint {name} released")
    return changes


async def _sync_members(session: AsyncSession, tenant: uuid.UUID, tp: TenantPlan, *,
                        now: datetime) -> list[str]:
    changes = []
    existing: dict[str, list[members_repo.Profile]] = {}
    for member in await members_repo.list_members(session, tenant):
        existing.setdefault(member.name, []).append(member)
    for name, found in existing.items():
        if name in tp.members and len(found) > 1:
            raise DirectoryError([f"tenant {tp.name}: {len(found)} members in the database are "
                                  f"named {name!r}; rename or remove all but one first"])
    # A tenant with an admin keeps one (a tenant run by the sysadmin alone may have none).
    if (not any(mp.is_admin for mp in tp.members.values())
            and any(m.is_admin for found in existing.values() for m in found)):
        raise DirectoryError([f"tenant {tp.name}: no member would be an admin; mark one "
                              "'admin: true' (the store refuses to remove a tenant's last admin)"])
    ids: dict[str, uuid.UUID] = {}
    # Admins first and erasures last, so the role is handed over before anyone gives it up.
    for name, mp in sorted(tp.members.items(), key=lambda item: not item[1].is_admin):
        try:
            if name not in existing:
                # Initial availability only: afterwards it is the member's own choice.
                ids[name] = await members_repo.create_member(
                    session, tenant, name, mp.phone, is_admin=mp.is_admin, now=now,
                    available=mp.available, until=mp.until)
                changes.append(f"tenant {tp.name}: member {name} added")
                continue
            member = existing[name][0]
            ids[name] = member.id
            if (member.phone_kind, member.phone, member.is_admin) != (
                    mp.phone.kind, mp.phone.phone, mp.is_admin):
                await members_repo.update_member(session, tenant, member.id, phone=mp.phone,
                                                 is_admin=mp.is_admin)
                changes.append(f"tenant {tp.name}: member {name} updated")
        except Invalid as exc:  # a SIP endpoint not assigned to the tenant
            raise DirectoryError(_refused(f"tenant {tp.name}.member {name}", exc)) from None
    for name, mp in tp.members.items():
        if await hours_repo.replace_member_schedule(session, tenant, ids[name], mp.schedule,
                                                    mp.schedule_timezone):
            changes.append(f"tenant {tp.name}: member {name} schedule " + (
                f"set to {describe_periods(mp.schedule)} ({mp.schedule_timezone})"
                if mp.schedule else "cleared"))
    for name, found in existing.items():
        if name not in tp.members:
            for member in found:
                await members_repo.erase_member(session, tenant, member.id)
            changes.append(f"tenant {tp.name}: member {name} removed")
    return changes


async def _sync_teams(session: AsyncSession, tenant: uuid.UUID, tp: TenantPlan, *,
                      now: datetime, fallbacks: FallbackPolicy) -> list[str]:
    changes = []
    views = {t.name: t for t in await directory_repo.list_teams(session, tenant)}
    for name, old in views.items():
        if name not in tp.teams:
            await directory_repo.delete_team(session, tenant, old.id)
            changes.append(f"tenant {tp.name}: team {name} removed")
    names = {m.id: m.name for m in await members_repo.list_members(session, tenant)}
    member_ids = {name: mid for mid, name in names.items()}
    for name, plan_ in tp.teams.items():
        where = f"tenant {tp.name}: team {name}"
        view = views.get(name)
        have_numbers: set[str] = set()
        current: dict[uuid.UUID, int] = {}
        if view is None:
            team = await directory_repo.create_team(session, tenant, name, plan_.settings, now=now,
                                                   fallbacks=fallbacks)
            changes.append(f"{where} created")
        else:
            team = view.id
            if await directory_repo.replace_team_settings(session, tenant, team, plan_.settings,
                                                         fallbacks=fallbacks):
                changes.append(f"{where} settings updated")
            have_numbers = set(view.numbers)
            current = {m.member_id: m.priority for m in view.members}
        if await hours_repo.replace_team_hours(session, tenant, team, plan_.hours):
            changes.append(f"{where} opening hours " + (
                f"set to {describe_periods(plan_.hours)}" if plan_.hours
                else "cleared (always open)"))
        changes += await _sync_holidays(session, tenant, team, where, plan_.holidays)
        for number in sorted(have_numbers - set(plan_.numbers)):
            await directory_repo.remove_number(session, tenant, team, number)
            changes.append(f"{where} number {number} removed")
        for number in plan_.numbers:
            if number in have_numbers:
                continue
            try:
                await directory_repo.add_number(session, tenant, team, number)
            except AlreadyExists:
                # Owned by a team outside this file's view (or moved): let the sysadmin decide.
                raise DirectoryError([f"{where}: number {number} belongs to another team"]) from None
            changes.append(f"{where} number {number} added")
        wanted = {member_ids[n]: p for n, p in plan_.members.items()}
        for mid in set(current) - set(wanted):
            await directory_repo.remove_membership(session, tenant, team, mid)
            changes.append(f"{where}: {names.get(mid, mid)} left")
        tiers = {member_ids[n]: t for n, t in plan_.tiers.items()}
        for mid, priority in wanted.items():
            tier = tiers.get(mid, FIRST_TIER)
            if await directory_repo.put_membership(session, tenant, team, mid, priority, tier=tier):
                seat = f"priority {priority}" + (f", tier {tier}" if tier != FIRST_TIER else "")
                changes.append(f"{where}: {names[mid]} joined ({seat})"
                               if mid not in current else f"{where}: {names[mid]} {seat}")
    return changes


async def _sync_holidays(session: AsyncSession, tenant: uuid.UUID, team: uuid.UUID, where: str,
                         wanted: dict[date, str | None]) -> list[str]:
    changes = []
    have = dict(await hours_repo.holidays(session, tenant, team))
    for day in sorted(set(have) - set(wanted)):
        await hours_repo.remove_holiday(session, tenant, team, day)
        changes.append(f"{where} holiday {day.isoformat()} removed")
    for day, name in sorted(wanted.items()):
        label = f" ({name})" if name else ""
        if day not in have:
            await hours_repo.add_holiday(session, tenant, team, day, name)
            changes.append(f"{where} holiday {day.isoformat()} added{label}")
        elif have[day] != name:
            await hours_repo.rename_holiday(session, tenant, team, day, name)
            changes.append(f"{where} holiday {day.isoformat()} renamed{label}")
    return changes


async def import_directory(session: AsyncSession, raw: Any, *, phones: PhonePolicy,
                           defaults: RoutingDefaults, now: datetime | None = None,
                           fallback_contexts: Collection[str] = SHIPPED_FALLBACK_CONTEXTS,
                           moh_classes: Sequence[str] = DEFAULT_MOH_CLASSES,
                           ) -> list[str]:
    """Check the file, then apply it inside the caller's transaction (all or nothing).

    Fallback and closed numbers are held to `phones`, as member phones are; dialplan targets
    to `fallback_contexts` (the configuration's telephony.fallback_contexts); music classes to
    `moh_classes` (telephony.moh_classes)."""
    fallbacks = FallbackPolicy(phones, frozenset(fallback_contexts), tuple(moh_classes))
    return await apply(session, plan(raw, phones=phones, defaults=defaults, fallbacks=fallbacks),
                       now=now or datetime.now(UTC), fallbacks=fallbacks)
