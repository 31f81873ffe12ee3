"""Admin pages for teams: the tenant's teams, and one team's members with priorities and routing settings."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from teamfoned.api.context import context
from teamfoned.api.errors import status_of
from teamfoned.domain.errors import Invalid
from teamfoned.routing.strategies import Strategy
from teamfoned.store import directory_repo, members_repo
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
    names = {p.id: p.name for p in people}
    inside = {m.member_id for m in team.members}
    shown = {"strategy": str(team.settings.strategy), "ring_time": str(team.settings.ring_time),
             "max_wait": str(team.settings.max_wait), **(values or {})}
    return page("admin_team.html", who, status=status_of("invalid") if problems else 200,
                team=team, names=names, outside=[p for p in people if p.id not in inside],
                strategies=list(Strategy), values=shown, problems=problems or {}, saved=saved)


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
