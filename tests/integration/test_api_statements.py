"""The members' API's busiest request, counted in statements on the real databases (a count, not a timing)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from teamfoned.domain.errors import NotFound
from teamfoned.store.own_availability import set_own_availability
from tests.integration.test_api_bench import (  # noqa: F401  (api_fixture provides the `api` fixture)
    LiveApi,
    api_fixture,
)


@contextmanager
def statements_of(api: LiveApi) -> Iterator[list[str]]:
    """Every statement the API's engine sends while the block runs."""
    engine = api.sessions.kw["bind"].sync_engine
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


async def test_availability_update_is_two_statements(api: LiveApi) -> None:
    bob = api.world.auth("bob")
    # A first request records the token's use; the update below is then the steady case.
    assert (await api.client.get("/v1/me", headers=bob)).status_code == 200
    until = api.clock.now + timedelta(hours=2)
    with statements_of(api) as seen:
        done = await api.client.put("/v1/me/availability", headers=bob,
                                    json={"available": True, "until": until.isoformat()})
    assert done.status_code == 200, done.text
    assert len(seen) <= 2, seen
    body = done.json()
    assert body["availability"]["available"] is True
    assert body["name"] == "Bob Bakker" and [t["name"] for t in body["teams"]] == ["desk"]
    assert body["has_photo"] is True and body["availability"]["reason"] == "manual"
    # What the response said is what a fresh read says.
    assert (await api.client.get("/v1/me", headers=bob)).json() == body


async def test_own_availability_of_a_foreign_member_writes_nothing(api: LiveApi) -> None:
    before = await api.snapshot()
    async with api.sessions() as session, session.begin():
        with pytest.raises(NotFound):
            await set_own_availability(session, api.world.globex, api.world.id("bob"), True,
                                       None, now=api.clock.now)
    assert await api.snapshot() == before
