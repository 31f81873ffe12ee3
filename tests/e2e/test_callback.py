"""Callback instead of waiting, with real SIP calls: the key, the member first, then the caller from the team number."""

import asyncio

import httpx
import pytest
from sqlalchemy import select

from teamfoned.api.context import system_clock as now
from teamfoned.store.engine import create_sessionmaker
from teamfoned.store.tables import teams, waiting_entries
from teamfoned.store.tokens_repo import create_token

from .routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = pytest.mark.e2e

KEY = "5"
CALLER = "+31201234502"  # the caller who asks to be called back (a Dutch fixed number)


def callback_directory(**callback) -> dict:
    doc = directory(ring_time=5, max_wait=60, team_members=("alice",), available=("alice",))
    doc["tenants"][0]["teams"][0].update(callback_key=KEY, **callback)
    return doc


async def busy_team_and_a_request(routing, carrier):
    """Alice talks with a first caller; a second waits, hears the offer, presses the key and is
    hung up by the daemon. Returns the first caller's leg."""
    await carrier.set_phone(PHONES["alice"], "answer", delay=0.3)
    first = await carrier.call(TEAM_NUMBER, caller_id="+31201234501")
    await routing.wait_bridged()
    # Alice's next call (the callback) is confirmed with 1 while she hears whom to call back.
    await carrier.set_phone(PHONES["alice"], "dtmf", delay=0.3, after=1, digit="1")
    second = await carrier.call(TEAM_NUMBER, caller_id=CALLER)
    # The offer answers the caller (their key needs the media path), then they press it.
    await carrier.wait_for(lambda: second.answered, 10, "the waiting caller to hear the offer")
    await asyncio.sleep(0.5)
    await carrier.send_dtmf(second.uniqueid, KEY)
    await asyncio.wait_for(second.ended.wait(), 15)  # the confirmation played, then the hang-up
    async with create_sessionmaker(routing.engine)() as session:
        [entry] = (await session.execute(select(waiting_entries))).all()
    assert entry.callback_requested_at is not None and entry.left_at is None
    assert len(carrier.phone(PHONES["alice"])) == 1  # nobody rang for the request yet
    return first


async def test_the_caller_presses_the_key_and_is_called_back_when_alice_accepts(routing, carrier):
    await routing.setup(callback_directory())
    await carrier.set_phone(CALLER, "answer", delay=0.5)
    first = await busy_team_and_a_request(routing, carrier)
    await carrier.hangup_caller(first)  # alice is free: the request is at the front
    alice = await carrier.wait_rung(PHONES["alice"], count=2)
    called_back = await carrier.wait_rung(CALLER, timeout=20)
    # Alice accepted before the caller's phone rang, and the call comes from the team number.
    assert alice.answered and alice.answered_at < called_back.rang_at
    assert called_back.caller_id_num.lstrip("+") == TEAM_NUMBER
    await carrier.wait_for(lambda: called_back.answered, 10, "the caller to answer the callback")
    bridge = await routing.wait_bridged()
    assert len(bridge["channels"]) == 2
    await asyncio.sleep(1)  # they talk
    assert not alice.ended and not called_back.ended
    await carrier.hangup_phone(called_back)
    _, call = await routing.wait_calls_finished(2)
    assert call.outcome == "callback_answered" and call.answered_by == "alice"
    assert call.attempts == [("alice", "answered")]
    await routing.assert_clean()


async def test_a_caller_who_does_not_answer_is_retried_then_listed_to_call_back(routing, carrier):
    await routing.setup(callback_directory(callback_attempts=2, callback_retry_after=5))
    await carrier.set_phone(CALLER, "never")
    first = await busy_team_and_a_request(routing, carrier)
    await carrier.hangup_caller(first)
    await carrier.wait_rung(CALLER, count=2, timeout=40)
    _, call = await routing.wait_calls_finished(2, timeout=40)
    assert call.outcome == "callback_failed"
    assert call.attempts == [("alice", "callback_unanswered")] * 2
    tries = carrier.phone(CALLER)
    assert len(tries) == 2 and all(t.caller_id_num.lstrip("+") == TEAM_NUMBER for t in tries)
    # Alice was rung for each try (and released in between), never for anything else.
    assert len(carrier.phone(PHONES["alice"])) == 3
    # The team's "to call back" list has it, with the reason.
    async with create_sessionmaker(routing.engine)() as session, session.begin():
        team_id = (await session.execute(select(teams.c.id))).scalar_one()
        member = {v: k for k, v in (await routing.member_names()).items()}["alice"]
        _, token = await create_token(session, routing.tenant_id, member, now=now(), label="e2e")
    async with httpx.AsyncClient(base_url=routing.http_url, timeout=5) as http:
        page = await http.get(f"/v1/teams/{team_id}/missed",
                              headers={"Authorization": f"Bearer {token}"})
    assert page.status_code == 200, page.text
    [missed] = page.json()["calls"]
    assert (missed["caller_number"], missed["outcome"]) == (CALLER, "callback_failed")
    await routing.assert_clean()


async def test_a_restarted_daemon_continues_its_pending_callback(routing, carrier):
    await routing.setup(callback_directory())
    await carrier.set_phone(CALLER, "answer", delay=0.5)
    await busy_team_and_a_request(routing, carrier)
    # The daemon stops (its drain ends the first call) and starts again: the request was kept.
    routing.daemon.stop()
    await asyncio.wait_for(routing._task, 30)
    [kept] = [c for c in await routing.calls() if c.outcome is None]
    await routing.start()
    called_back = await carrier.wait_rung(CALLER, timeout=20)
    await carrier.wait_for(lambda: called_back.answered, 10, "the caller to answer the callback")
    await routing.wait_bridged()
    await carrier.hangup_phone(called_back)
    records = await routing.wait_calls_finished(2)
    [call] = [r for r in records if r.id == kept.id]
    assert call.outcome == "callback_answered" and call.answered_by == "alice"
    await routing.assert_clean()
