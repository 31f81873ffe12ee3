"""Team data for the team's own members: teammates and line states, hours, call history, missed calls, statistics."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response

from teamfoned.api.auth import ApiDep, CallerDep
from teamfoned.api.errors import COMMON, ApiProblem, responses
from teamfoned.api.photo_upload import PHOTO_RESPONSE, photo_response
from teamfoned.api.schemas import (
    AttemptOut,
    CallOut,
    CallPage,
    HolidayOut,
    Instant,
    LineOut,
    MissedCallOut,
    MissedPage,
    StatsOut,
    TeammateOut,
    TeamOut,
    TeamRefOut,
)
from teamfoned.api.views import missed_out, periods_out, reason_out
from teamfoned.routing.model import MISSED_OUTCOMES
from teamfoned.store import followup_repo, members_repo, teams_repo, waiting_repo

router = APIRouter(prefix="/v1/teams", tags=["teams"], responses=responses(*COMMON))

DEFAULT_PERIOD = timedelta(days=7)
# Statistics read every call of the period: a bound keeps one request cheap.
MAX_PERIOD = timedelta(days=366)


@router.get("", response_model=list[TeamRefOut], summary="Teams I belong to")
async def my_teams(caller: CallerDep, api: ApiDep) -> list[TeamRefOut]:
    async with api.transaction() as session:
        found = await members_repo.teams_of(session, caller.tenant_id, caller.member_id)
    return [TeamRefOut(id=t.id, name=t.name, label=t.label) for t in found]


@router.get("/{team_id}", response_model=TeamOut,
            summary="A team I am in: members with availability and line state")
async def get_team(team_id: uuid.UUID, caller: CallerDep, api: ApiDep) -> TeamOut:
    now = api.clock()
    async with api.transaction() as session:
        view = await teams_repo.team_view(session, caller.tenant_id, team_id, caller.member_id,
                                          now=now)
    return TeamOut(
        id=view.id, name=view.name, label=view.label, strategy=view.strategy,
        ring_time_s=view.ring_time_s, max_wait_s=view.max_wait_s, wrap_up_s=view.wrap_up_s,
        timezone=view.timezone, open_now=view.open_now, hours=periods_out(view.hours),
        holidays=[HolidayOut(date=day, name=name) for day, name in view.holidays],
        numbers=view.numbers,
        members=[TeammateOut(id=m.id, name=m.name, priority=m.priority, has_photo=m.has_photo,
                             available=m.available, until=m.until if m.available else None,
                             reason=reason_out(m.reason), line_state=m.line_state)
                 for m in view.members])


@router.get("/{team_id}/members/{member_id}/photo", response_class=Response,
            responses=PHOTO_RESPONSE, summary="A teammate's photo")
async def teammate_photo(team_id: uuid.UUID, member_id: uuid.UUID, caller: CallerDep,
                         api: ApiDep) -> Response:
    async with api.transaction() as session:
        view = await teams_repo.team_view(session, caller.tenant_id, team_id, caller.member_id,
                                          now=api.clock())
        if member_id not in {m.id for m in view.members}:
            raise ApiProblem("not_found", "no such photo")
        data, kind = await members_repo.photo(session, caller.tenant_id, member_id)
    return photo_response(data, kind)


@router.get("/{team_id}/calls", response_model=CallPage,
            summary="The team's call history with attempts, newest first")
async def team_calls(
    team_id: uuid.UUID, caller: CallerDep, api: ApiDep,
    cursor: Annotated[str | None, Query(max_length=200,
                                        description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> CallPage:
    async with api.transaction() as session:
        page, next_cursor = await teams_repo.calls_page(
            session, caller.tenant_id, team_id, caller.member_id, cursor=cursor, limit=limit)
    return CallPage(
        calls=[CallOut(
            id=c.id, caller_number=c.caller_number, dialled_number=c.dialled_number,
            started_at=c.started_at, answered_at=c.answered_at, ended_at=c.ended_at,
            outcome=c.outcome, wait_seconds=c.wait_seconds, talk_seconds=c.talk_seconds,
            answered_by=c.answered_by, handled_by=c.handled_by, handled_at=c.handled_at,
            node=c.node,
            attempts=[AttemptOut(id=a.id, member_id=a.member_id, member_name=a.member_name,
                                 started_at=a.started_at, answered_at=a.answered_at,
                                 ended_at=a.ended_at, result=a.result) for a in c.attempts])
            for c in page],
        next_cursor=next_cursor)


@router.get("/{team_id}/missed", response_model=MissedPage,
            summary="Missed calls to call back: unhandled first, newest first",
            description="Finished calls nobody answered (" + ", ".join(sorted(MISSED_OUTCOMES))
                        + ") until a member marks them handled.")
async def team_missed(
    team_id: uuid.UUID, caller: CallerDep, api: ApiDep,
    cursor: Annotated[str | None, Query(max_length=200,
                                        description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    unhandled_only: Annotated[bool, Query(description="leave out handled calls")] = False,
) -> MissedPage:
    async with api.transaction() as session:
        page, next_cursor = await followup_repo.missed_page(
            session, caller.tenant_id, team_id, caller.member_id, cursor=cursor, limit=limit,
            unhandled_only=unhandled_only)
    return MissedPage(calls=[missed_out(c) for c in page], next_cursor=next_cursor)


@router.post("/{team_id}/calls/{call_id}/handled", response_model=MissedCallOut,
             summary="Mark a missed call handled (called back); idempotent",
             description="Records who and when. A call already handled keeps its first handler. "
                         "An answered call, or one still in progress, is refused (422).")
async def mark_handled(team_id: uuid.UUID, call_id: uuid.UUID, caller: CallerDep,
                       api: ApiDep) -> MissedCallOut:
    async with api.transaction() as session:
        done = await followup_repo.mark_handled(session, caller.tenant_id, team_id, call_id,
                                                caller.member_id, now=api.clock())
    return missed_out(done)


@router.get("/{team_id}/stats", response_model=StatsOut, response_model_by_alias=True,
            summary="The team's statistics for a period (default: the last 7 days)")
async def team_stats(
    team_id: uuid.UUID, caller: CallerDep, api: ApiDep,
    start: Annotated[Instant | None, Query(alias="from", description="RFC 3339")] = None,
    end: Annotated[Instant | None, Query(alias="to", description="RFC 3339")] = None,
) -> StatsOut:
    end = end or api.clock()
    start = start or end - DEFAULT_PERIOD
    if end <= start:
        raise ApiProblem("invalid", "the period is empty", fields=[("to", "must be after from")])
    if end - start > MAX_PERIOD:
        raise ApiProblem("invalid", "the period is too long",
                         fields=[("from", f"at most {MAX_PERIOD.days} days before to")])
    async with api.transaction() as session:
        stats = await teams_repo.team_stats(session, caller.tenant_id, team_id,
                                            caller.member_id, start=start, end=end)
        line = await waiting_repo.line_stats(session, caller.tenant_id, team_id, start=start, end=end)
    return StatsOut(from_=start, to=end, received=stats.received, answered=stats.answered,
                    abandoned=stats.abandoned, missed=stats.missed,
                    average_wait_s=stats.average_wait_s, p90_wait_s=stats.p90_wait_s,
                    service_level_seconds=stats.service_level_seconds,
                    service_level=stats.service_level, waited_in_line=line.waited,
                    average_line_s=line.average_line_s, longest_line_s=line.longest_line_s,
                    abandoned_in_line=line.abandoned_in_line, callbacks=stats.callbacks,
                    callbacks_answered=stats.callbacks_answered)


@router.get("/{team_id}/line", response_model=LineOut,
            summary="The team's waiting line now: callers waiting, the longest wait")
async def team_line(team_id: uuid.UUID, caller: CallerDep, api: ApiDep) -> LineOut:
    async with api.transaction() as session:
        await teams_repo.team_row(session, caller.tenant_id, team_id, caller.member_id)
        line = await waiting_repo.team_line(session, caller.tenant_id, team_id, now=api.clock())
    return LineOut(waiting=line.waiting, longest_wait_s=line.longest_wait_s,
                   callbacks_pending=line.callbacks_pending)
