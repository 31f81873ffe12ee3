"""My team, live: a server-sent event stream of the teammates' availability and line state.

Line state is derived from the database (open attempts, recent answers), never pushed by the
daemon, so the stream reads the team's view once a second and sends it when it changed: every
daemon sharing the database is seen the same way. Each stream ends after a while and the
browser's EventSource reconnects by itself, so no connection outlives a stop for long.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import StreamingResponse

from teamfoned.api.context import context
from teamfoned.store import teams_repo, waiting_repo
from teamfoned.web.pages import Visitor, member, router, waiting_text

POLL_SECONDS = 1.0
STREAM_SECONDS = 60.0
RETRY_MS = 2000


@router.get("/teams/{team_id}/events")
async def team_events(team_id: uuid.UUID, request: Request,
                      who: Annotated[Visitor, Depends(member)]) -> StreamingResponse:
    api = context(request)
    caller = who.caller
    assert caller is not None
    # A team the member is not in is refused before the stream starts (404, as everywhere).
    async with api.transaction() as session:
        await teams_repo.team_row(session, caller.tenant_id, team_id, caller.member_id)

    async def stream() -> AsyncIterator[str]:
        yield f"retry: {RETRY_MS}\n\n"
        last = None
        loop = asyncio.get_running_loop()
        ends = loop.time() + STREAM_SECONDS
        while loop.time() < ends and not await request.is_disconnected():
            async with api.transaction() as session:
                view = await teams_repo.team_view(session, caller.tenant_id, team_id,
                                                  caller.member_id, now=api.clock())
                line = await waiting_repo.team_line(session, caller.tenant_id, team_id, now=api.clock())
            state = {"members": [{"id": str(m.id), "state": m.line_state.value,
                                  "label": who.t("line_" + m.line_state.value)} for m in view.members],
                     "waiting": line.waiting, "waiting_text": waiting_text(who.t, line)}
            if state != last:
                yield f"event: team\ndata: {json.dumps(state)}\n\n"
                last = state
            await asyncio.sleep(POLL_SECONDS)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})
