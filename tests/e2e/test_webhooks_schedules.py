"""Webhooks and availability schedules with real SIP calls."""

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy import select

from teamfoned.store.engine import create_sessionmaker
from teamfoned.store.schedules import apply_schedules
from teamfoned.store.tables import availability_schedules, members, webhook_deliveries
from teamfoned.webhooks.admin import add_webhook
from teamfoned.webhooks.signing import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

from .routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = pytest.mark.e2e


async def test_missed_call_webhook_is_signed_and_retried_after_a_failure(routing, carrier):
    received = []

    async def receive(request: web.Request) -> web.Response:
        received.append((dict(request.headers), await request.read()))
        # The receiver is down the first time.
        return web.Response(status=503 if len(received) == 1 else 204)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        await routing.setup(directory(available=()))
        async with create_sessionmaker(routing.engine)() as session, session.begin():
            _, secret = await add_webhook(session, routing.tenant_id, f"http://127.0.0.1:{port}/hook",
                                          ["call.missed"])
        leg = await carrier.call(TEAM_NUMBER, caller_id="+31201234567")
        await carrier.wait_for(lambda: leg.ended_at is not None, 15, "the fallback to end the call")
        [call] = await routing.wait_calls_finished(1)
        assert call.outcome == "no_one_available"
        for _ in range(100):
            if len(received) >= 2:
                break
            await asyncio.sleep(0.1)
        assert len(received) == 2, received
        for headers, body in received:
            assert verify(secret, headers[DELIVERY_HEADER], int(headers[TIMESTAMP_HEADER]), body,
                          headers[SIGNATURE_HEADER], now=int(datetime.now(UTC).timestamp()))
            assert not verify("another secret", headers[DELIVERY_HEADER],
                              int(headers[TIMESTAMP_HEADER]), body, headers[SIGNATURE_HEADER],
                              now=int(datetime.now(UTC).timestamp()))
        event = json.loads(received[1][1])
        assert event["event"] == "call.missed"
        assert event["call"]["call_id"] == str(call.id) and event["call"]["caller_number"] == "+31201234567"
        # The same delivery both times (the receiver can tell a repeat), now marked delivered.
        assert received[0][0]["X-Teamfoned-Delivery"] == received[1][0]["X-Teamfoned-Delivery"]
        await asyncio.sleep(0.3)
        async with create_sessionmaker(routing.engine)() as session:
            [row] = (await session.execute(select(webhook_deliveries))).all()
        assert row.delivered_at is not None and row.attempts == 2
    finally:
        await runner.cleanup()


async def test_a_schedule_turns_a_member_on_and_off(routing, carrier):
    await routing.setup(directory(available=()))
    now = datetime.now(UTC)
    async with create_sessionmaker(routing.engine)() as session, session.begin():
        alice = (await session.execute(select(members.c.id).where(members.c.name == "alice"))).scalar_one()
        # Alice works today from an hour ago until an hour from now (UTC), every day.
        start, end = (now - timedelta(hours=1)), (now + timedelta(hours=1))
        if start.date() != now.date() or end.date() != now.date():
            start, end = now.replace(hour=0, minute=0), now.replace(hour=23, minute=59)
        for day in range(7):
            await session.execute(availability_schedules.insert().values(
                tenant_id=routing.tenant_id, member_id=alice, weekday=day,
                starts=start.strftime("%H:%M"), ends=end.strftime("%H:%M"), timezone="UTC"))
        changes = await apply_schedules(session, now=now)
    assert [c.available for c in changes] == [True]
    await carrier.set_phone(PHONES["alice"], "answer")
    leg = await carrier.call(TEAM_NUMBER)
    await routing.wait_bridged()
    await carrier.hangup_caller(leg)
    await routing.wait_calls_finished(1)
    # The schedule's end passes (an injected clock two hours on): alice is off again.
    async with create_sessionmaker(routing.engine)() as session, session.begin():
        changes = await apply_schedules(session, now=end + timedelta(minutes=1))
    assert [c.available for c in changes] == [False]
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_for(lambda: leg.ended_at is not None, 15, "the fallback to end the call")
    records = await routing.wait_calls_finished(2)
    assert records[-1].outcome == "no_one_available"
    assert len(carrier.phone(PHONES["alice"])) == 1
    await routing.assert_clean()
