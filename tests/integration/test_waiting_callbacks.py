"""Callback requests in the waiting line's store, on SQLite and PostgreSQL: their place, their pauses, their count."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from teamfoned.store.engine import create_sessionmaker
from teamfoned.store.routing_repo import RoutingRepository
from teamfoned.store.tables import waiting_entries
from teamfoned.store.waiting_repo import WaitingRepository, team_line
from tests.integration.test_store_routing import NODE, NOW, engine, open_call, seed  # noqa: F401


async def test_a_callback_request_keeps_its_place_and_pauses_without_holding_the_line(
        engine: AsyncEngine) -> None:  # noqa: F811
    s = await seed(engine)
    repo, line = RoutingRepository(engine), WaitingRepository(create_sessionmaker(engine))
    first, second = await open_call(repo, s), await open_call(repo, s)
    await line.join_line(first, s.tenant_id, s.team_id, arrived_at=NOW, node=NODE, now=NOW)
    later = NOW + timedelta(seconds=1)
    await line.join_line(second, s.tenant_id, s.team_id, arrived_at=later, node=NODE, now=later)

    await line.request_callback(first, now=NOW + timedelta(seconds=5))
    await line.request_callback(first, now=NOW + timedelta(seconds=9))  # the first request stands
    view = await line.line_view(s.team_id, second, arrived_at=later, now=NOW + timedelta(seconds=10))
    assert view.ahead == 1  # the request is still ahead of the later caller

    # A try went unanswered: until the next is due, the request holds no free member back.
    due = NOW + timedelta(seconds=70)
    await line.callback_retry_later(first, tries=1, due_at=due)
    pausing = await line.line_view(s.team_id, second, arrived_at=later, now=NOW + timedelta(seconds=20))
    assert pausing.ahead == 0
    assert (await line.line_view(s.team_id, second, arrived_at=later, now=due)).ahead == 1

    async with create_sessionmaker(engine)() as session:
        row = (await session.execute(
            select(waiting_entries).where(waiting_entries.c.call_id == first))).one()
        shown = await team_line(session, s.tenant_id, s.team_id, now=NOW + timedelta(seconds=20))
    assert (row.callback_requested_at, row.callback_tries, row.callback_due_at) == (
        NOW + timedelta(seconds=5), 1, due)
    assert (shown.waiting, shown.callbacks_pending) == (2, 1)
