"""What frees a member wakes the callers waiting in line at once, not by the backstop: a FastAGI
call's attempts, and a change to available through the API, the web app or the phone line
(PostgreSQL: a NOTIFY another node's LISTEN sees; SQLite: in the daemon's process)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy import select

from teamfoned.agi.dialstatus import AgiStatus
from teamfoned.agi.hunt import AgiCall, AgiContext
from teamfoned.config import settings_from_dict
from teamfoned.store.engine import create_engine, create_sessionmaker
from teamfoned.store.line_repo import LineRepository
from teamfoned.store.line_signals import LineSignals
from teamfoned.store.routing_repo import RoutingRepository
from teamfoned.store.tables import attempts
from tests.integration.test_api_bench import live
from tests.integration.test_store_routing import seed
from tests.integration.test_web_sign_in import sign_in

# So long that only a signal can wake anyone within a test.
NO_BACKSTOP = 3600.0


@asynccontextmanager
async def another_node(url: str, signals: LineSignals) -> AsyncIterator[asyncio.Event]:
    """Set when a waiting call would be woken: on PostgreSQL on another node, listening (so only
    a NOTIFY reaches it); on SQLite, one machine and one daemon, in `signals`' own process."""
    engine = create_engine(url)
    postgres = engine.dialect.name == "postgresql"
    receiver = LineSignals(create_sessionmaker(engine), url, backstop_seconds=NO_BACKSTOP) if postgres else signals
    woken = asyncio.Event()
    receiver.subscribe(woken.set)
    closing = asyncio.Event()
    running = asyncio.create_task(receiver.run(closing))
    try:
        if postgres:
            await asyncio.wait_for(woken.wait(), 10)  # it wakes its own calls once it LISTENs
            woken.clear()
        yield woken
    finally:
        closing.set()
        await asyncio.wait_for(running, 10)
        await engine.dispose()


async def test_a_member_freed_by_a_fastagi_call_wakes_the_line(migrated_db_url: str) -> None:
    engine = create_engine(migrated_db_url)
    try:
        s = await seed(engine, n_members=1)
        repo = RoutingRepository(engine)
        signals = LineSignals(create_sessionmaker(engine), migrated_db_url, backstop_seconds=NO_BACKSTOP)
        telephony = settings_from_dict({"ari": {"password": "unused"}}).telephony
        ctx = AgiContext(repo=repo, clock=lambda: datetime.now(UTC), node="node-a",
                         trunk_template=telephony.trunk_dial_template, caller_id_mode="caller",
                         confirm_time=10.0, rng=random.Random(1), claim_margin=2.0, signals=signals)
        closing = asyncio.Event()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(signals.run(closing))  # sends the NOTIFY on PostgreSQL
            async with another_node(migrated_db_url, signals) as woken:
                route = await repo.team_for_number("+31201234567")
                assert route is not None
                call = AgiCall(ctx, route, channel_id="caller-1", dialled="+31201234567",
                               caller_number="+31101234567", caller_name="Jan")
                assert (await call.start()).status is AgiStatus.DIAL
                assert not woken.is_set()
                # Dial() came back unanswered: the member is free for the callers in line.
                await call.dial_result("NOANSWER", "", None)
                await asyncio.wait_for(woken.wait(), 10)
            closing.set()
        async with engine.connect() as conn:
            results = (await conn.execute(select(attempts.c.member_id, attempts.c.result))).all()
        assert [tuple(r) for r in results] == [(s.members[0], "no_answer")]
        assert call.finished
    finally:
        await engine.dispose()


async def test_a_change_to_available_wakes_the_line_from_the_api_web_app_and_phone_line(
        migrated_db_url: str) -> None:
    engine = create_engine(migrated_db_url)
    sessions = create_sessionmaker(engine)
    # The daemon's own signals, which the API and the phone line run beside.
    signals = LineSignals(sessions, migrated_db_url, backstop_seconds=NO_BACKSTOP)
    try:
        async with live(migrated_db_url, line_signals=signals) as api, \
                another_node(migrated_db_url, signals) as woken:
            done = await api.client.put("/v1/me/availability", headers=api.world.auth("bob"),
                                        json={"available": True})
            assert done.status_code == 200, done.text
            await asyncio.wait_for(woken.wait(), 10)

            woken.clear()
            carol = await sign_in(api, "carol")
            csrf = await carol.csrf("/app/status")
            done = await carol.post("/app/status", {"csrf": csrf, "available": "on", "until": "open"})
            assert done.status_code == 303, done.text
            await asyncio.wait_for(woken.wait(), 10)

            woken.clear()
            frank = api.world.id("frank")
            await LineRepository(sessions, signals=signals).set_availability(
                api.world.acme, frank, True, None, now=api.clock.now)
            await asyncio.wait_for(woken.wait(), 10)
    finally:
        await engine.dispose()
