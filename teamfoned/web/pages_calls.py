"""Calls: each of my teams' recent calls with their attempts, and the calls to call back, marked handled with one tap."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from teamfoned.api.context import context
from teamfoned.domain.errors import Invalid
from teamfoned.store import followup_repo, members_repo, teams_repo
from teamfoned.web.pages import Visitor, form_of, member, page, router, see, zone_of
from teamfoned.web.security import PREFIX

# A phone screen's worth: older calls are in the API's paginated history.
RECENT = 20


@router.get("/calls")
async def calls_page(request: Request, who: Annotated[Visitor, Depends(member)]) -> Response:
    api = context(request)
    assert who.caller is not None
    teams = []
    async with api.transaction() as session:
        me = await members_repo.profile(session, who.caller.tenant_id, who.caller.member_id)
        for ref in me.teams:
            team = await teams_repo.team_row(session, who.caller.tenant_id, ref.id,
                                             who.caller.member_id)
            recent, _ = await teams_repo.calls_page(session, who.caller.tenant_id, ref.id,
                                                    who.caller.member_id, cursor=None,
                                                    limit=RECENT)
            missed, _ = await followup_repo.missed_page(
                session, who.caller.tenant_id, ref.id, who.caller.member_id, cursor=None,
                limit=RECENT, unhandled_only=True)
            teams.append((ref, zone_of(team.timezone), recent, missed))
    return page("calls.html", who, teams=teams,
                when=lambda moment, zone: moment.astimezone(zone).strftime("%d-%m %H:%M"))


@router.post("/teams/{team_id}/calls/{call_id}/handled")
async def mark_handled(team_id: uuid.UUID, call_id: uuid.UUID, request: Request,
                       who: Annotated[Visitor, Depends(member)]) -> Response:
    await form_of(request, who)
    api = context(request)
    assert who.caller is not None
    try:
        async with api.transaction() as session:
            await followup_repo.mark_handled(session, who.caller.tenant_id, team_id, call_id,
                                             who.caller.member_id, now=api.clock())
    except Invalid:
        # Not a missed call (or still going): nothing to mark; the list shows what is.
        pass
    return see(PREFIX + "/calls")
