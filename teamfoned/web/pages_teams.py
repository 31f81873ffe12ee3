"""Admin pages for teams: the tenant's teams, and one team's members with priorities and routing settings."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from teamfoned.api.context import context
from teamfoned.api.errors import status_of
from teamfoned.domain.errors import Invalid
from teamfoned.domain.periods_text import EXAMPLE, PeriodSyntaxError, format_periods, parse_period
from teamfoned.routing.hours import BadPeriod, WeeklyPeriod
from teamfoned.routing.strategies import Strategy
from teamfoned.store import directory_repo, hours_repo, members_repo
from teamfoned.web.pages import Visitor, form_of, page, router, see
from teamfoned.web.pages_admin import ADMIN, admin

TEAMS = ADMIN + "/teams"
# The settings this page edits: the few an admin changes often; the API has them all.
SETTINGS = ("strategy", "ring_time", "max_wait")
NUMBERS = ("ring_time", "max_wait")


def _whole(form: dict[str, str], key: str) -> int:
    # Text that is no whole number is refused here; its range is the domain's rule.
    try:
        return int(form.get(key, "").strip())
    except ValueError:
        raise Invalid([(key, "must be a whole number")]) from None


@router.get("/admin/teams")
async def teams_page(request: Request, who: Annotated[Visitor, Depends(admin)]) -> Response:
    api = context(request)
    assert who.caller is not None
    async with api.transaction() as session:
        found = await directory_repo.list_teams(session, who.caller.tenant_id)
    return page("admin_teams.html", who, teams=found)


async def _team_page(request: Request, who: Visitor, team_id: uuid.UUID, *,
                     problems: dict[str, str] | None = None,
                     values: dict[str, str] | None = None, saved: bool = False) -> Response:
    api = context(request)
    assert who.caller is not None
    async with api.transaction() as session:
        team = await directory_repo.team_admin_view(session, who.caller.tenant_id, team_id)
        people = await members_repo.list_members(session, who.caller.tenant_id)
        _, periods = await hours_repo.team_hours(session, who.caller.tenant_id, team_id)
        holidays = await hours_repo.holidays(session, who.caller.tenant_id, team_id)
    names = {p.id: p.name for p in people}
    inside = {m.member_id for m in team.members}
    shown = {"strategy": str(team.settings.strategy), "ring_time": str(team.settings.ring_time),
             "max_wait": str(team.settings.max_wait),
             "hours": "\n".join(format_periods(periods)), **(values or {})}
    return page("admin_team.html", who, status=status_of("invalid") if problems else 200,
                team=team, names=names, outside=[p for p in people if p.id not in inside],
                strategies=list(Strategy), values=shown, problems=problems or {}, saved=saved,
                holidays=holidays, example=EXAMPLE)


@router.get("/admin/teams/{team_id}")
async def team_page(team_id: uuid.UUID, request: Request,
                    who: Annotated[Visitor, Depends(admin)], saved: str = "") -> Response:
    return await _team_page(request, who, team_id, saved=saved == "1")


@router.post("/admin/teams/{team_id}/settings")
async def team_settings(team_id: uuid.UUID, request: Request,
                        who: Annotated[Visitor, Depends(admin)]) -> Response:
    form = await form_of(request, who)
    api = context(request)
    assert who.caller is not None
    values = {key: form.get(key, "") for key in SETTINGS}
    try:
        changes: dict[str, object] = {"strategy": values["strategy"]}
        problems: list[tuple[str, str]] = []
        for key in NUMBERS:
            try:
                changes[key] = _whole(form, key)
            except Invalid as exc:
                problems += exc.fields
        if problems:
            raise Invalid(problems)
        async with api.transaction() as session:
            # The API's own path: the domain checks every setting before anything is written.
            await directory_repo.update_team(session, who.caller.tenant_id, team_id, changes,
                                             fallbacks=api.settings.telephony.fallback_policy())
    except Invalid as exc:
        return await _team_page(request, who, team_id, problems=dict(exc.fields), values=values)
    return see(f"{TEAMS}/{team_id}?saved=1")


@router.post("/admin/teams/{team_id}/members")
async def put_member(team_id: uuid.UUID, request: Request,
                     who: Annotated[Visitor, Depends(admin)]) -> Response:
    form = await form_of(request, who)
    api = context(request)
    assert who.caller is not None
    try:
        member_id = uuid.UUID(form.get("member", ""))
    except ValueError:
        return await _team_page(request, who, team_id,
                                problems={"member": who.t("team_member_missing")})
    try:
        priority = _whole(form, "priority")
        async with api.transaction() as session:
            await directory_repo.put_membership(session, who.caller.tenant_id, team_id,
                                                member_id, priority)
    except Invalid as exc:
        # Shown beside the form it came from: a member's row, or the "add" form.
        row = "new" if form.get("row") == "new" else str(member_id)
        problems = {f"priority-{row}" if k == "priority" else k: v for k, v in exc.fields}
        return await _team_page(request, who, team_id, problems=problems)
    return see(f"{TEAMS}/{team_id}?saved=1")


@router.post("/admin/teams/{team_id}/members/{member_id}/remove")
async def remove_member(team_id: uuid.UUID, member_id: uuid.UUID, request: Request,
                        who: Annotated[Visitor, Depends(admin)]) -> Response:
    await form_of(request, who)
    api = context(request)
    assert who.caller is not None
    async with api.transaction() as session:
        await directory_repo.remove_membership(session, who.caller.tenant_id, team_id, member_id)
    return see(f"{TEAMS}/{team_id}?saved=1")


def _periods(text: str) -> list[WeeklyPeriod]:
    # One entry a line, in the one text syntax the command line and the directory file use.
    found: list[WeeklyPeriod] = []
    problems = []
    for line in text.splitlines():
        if line.strip():
            try:
                found.extend(parse_period(line))
            except (PeriodSyntaxError, BadPeriod) as exc:
                problems.append(str(exc))
    if problems:
        raise Invalid([("hours", "; ".join(problems))])
    return found


@router.post("/admin/teams/{team_id}/hours")
async def team_hours(team_id: uuid.UUID, request: Request,
                     who: Annotated[Visitor, Depends(admin)]) -> Response:
    form = await form_of(request, who)
    api = context(request)
    assert who.caller is not None
    text = form.get("hours", "")
    try:
        periods = _periods(text)
        async with api.transaction() as session:
            await hours_repo.replace_team_hours(session, who.caller.tenant_id, team_id, periods)
    except Invalid as exc:
        # The store names overlapping periods "periods"; on this page they are the hours field.
        problems = {"hours": "; ".join(reason for _, reason in exc.fields)}
        return await _team_page(request, who, team_id, problems=problems, values={"hours": text})
    return see(f"{TEAMS}/{team_id}?saved=1")


@router.post("/admin/teams/{team_id}/holidays")
async def add_holiday(team_id: uuid.UUID, request: Request,
                      who: Annotated[Visitor, Depends(admin)]) -> Response:
    form = await form_of(request, who)
    api = context(request)
    assert who.caller is not None
    name = form.get("name", "").strip() or None
    try:
        try:
            day = date.fromisoformat(form.get("date", "").strip())
        except ValueError:
            raise Invalid([("date", "give the date as YYYY-MM-DD")]) from None
        async with api.transaction() as session:
            await hours_repo.add_holiday(session, who.caller.tenant_id, team_id, day, name)
    except Invalid as exc:
        problems = {"holiday_" + k: v for k, v in exc.fields}
        return await _team_page(request, who, team_id, problems=problems)
    return see(f"{TEAMS}/{team_id}?saved=1")


@router.post("/admin/teams/{team_id}/holidays/{day}/remove")
async def remove_holiday(team_id: uuid.UUID, day: date, request: Request,
                         who: Annotated[Visitor, Depends(admin)]) -> Response:
    await form_of(request, who)
    api = context(request)
    assert who.caller is not None
    async with api.transaction() as session:
        await hours_repo.remove_holiday(session, who.caller.tenant_id, team_id, day)
    return see(f"{TEAMS}/{team_id}?saved=1")
