"""The team's waiting line in the API: its members see who waits now and the line's statistics; nobody else sees it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update

from teamfoned.store.tables import calls, waiting_entries
from tests.integration.test_api_bench import LiveApi, api_fixture  # noqa: F401


async def _enter(api: LiveApi, call: str, joined_after: float, left_after: float | None) -> None:
    async with api.sessions() as session, session.begin():
        row = (await session.execute(select(calls).where(calls.c.id == api.world.calls[call]))).one()
        await session.execute(insert(waiting_entries).values(
            call_id=row.id, tenant_id=row.tenant_id, team_id=row.team_id, node=row.node,
            arrived_at=row.started_at, joined_at=row.started_at + timedelta(seconds=joined_after),
            left_at=None if left_after is None else row.started_at + timedelta(seconds=left_after)))


async def test_members_see_their_teams_line_and_its_statistics(api: LiveApi) -> None:
    ann, desk, care = api.world.auth("ann"), api.world.teams["desk"], api.world.teams["care"]
    empty = await api.client.get(f"/v1/teams/{desk}/line", headers=ann)
    assert empty.status_code == 200 and empty.json() == {"waiting": 0, "longest_wait_s": None,
                                                         "callbacks_pending": 0}

    # An open call in the line since 40 s ago (it started 60 s ago); a caller who gave up
    # after 18 s in the line; an answered caller who waited 6 s in it.
    await _enter(api, "ann_talking", 20, None)
    await _enter(api, "abandoned", 2, 20)
    await _enter(api, "dave_done", 1, 7)
    line = (await api.client.get(f"/v1/teams/{desk}/line", headers=ann)).json()
    assert line == {"waiting": 1, "longest_wait_s": 40.0, "callbacks_pending": 0}
    # The waiting caller asks to be called back: still in the line, counted as a request.
    async with api.sessions() as session, session.begin():
        await session.execute(update(waiting_entries).where(
            waiting_entries.c.call_id == api.world.calls["ann_talking"]).values(
            callback_requested_at=datetime.now(UTC)))
    line = (await api.client.get(f"/v1/teams/{desk}/line", headers=ann)).json()
    assert line == {"waiting": 1, "longest_wait_s": 40.0, "callbacks_pending": 1}

    stats = (await api.client.get(f"/v1/teams/{desk}/stats", headers=ann)).json()
    assert (stats["waited_in_line"], stats["average_line_s"], stats["longest_line_s"],
            stats["abandoned_in_line"]) == (2, 12.0, 18.0, 1)
    assert (stats["callbacks"], stats["callbacks_answered"]) == (0, 0)
    # Had the caller who gave up asked for a callback that was never answered:
    async with api.sessions() as session, session.begin():
        await session.execute(update(calls).where(calls.c.id == api.world.calls["abandoned"]).values(
            outcome="callback_failed"))
    stats = (await api.client.get(f"/v1/teams/{desk}/stats", headers=ann)).json()
    assert (stats["callbacks"], stats["callbacks_answered"], stats["abandoned"]) == (1, 0, 0)

    # Another team's line, and another tenant's member: as if there were no such team.
    assert (await api.client.get(f"/v1/teams/{care}/line", headers=ann)).status_code == 404
    hank = api.world.auth("hank")
    assert (await api.client.get(f"/v1/teams/{desk}/line", headers=hank)).status_code == 404
