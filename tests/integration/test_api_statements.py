"""The members' API's busiest request, counted in statements on the real databases (a count, not a timing)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from teamfoned.domain.errors import NotFound
from teamfoned.store.own_availability import set_own_availability
from tests.integration.test_api_bench import LiveApi, api_settings, live


@pytest.fixture(name="api")
async def cached_api(migrated_db_url: str) -> AsyncIterator[LiveApi]:
    # A cache life far beyond the test's: a slow machine cannot turn a hit into a miss.
    async with live(migrated_db_url, api_settings(token_cache_seconds=300)) as running:
        yield running


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
    until = api.clock.now + timedelta(hours=2)
    # A token not seen before: its read, and the update.
    with statements_of(api) as seen:
        done = await api.client.put("/v1/me/availability", headers=bob,
                                    json={"available": True, "until": until.isoformat()})
    assert done.status_code == 200, done.text
    assert len(seen) <= 2, seen
    # A token just seen is known without the database: the update alone.
    with statements_of(api) as seen:
        done = await api.client.put("/v1/me/availability", headers=bob,
                                    json={"available": True, "until": until.isoformat()})
    assert done.status_code == 200, done.text
    assert len(seen) == 1, seen
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
