"""The hunt with real SIP calls: ring_all, hang-ups at every moment, nobody there, max wait, unknown numbers."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from .routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = pytest.mark.e2e


async def test_ring_all_first_answer_wins_and_the_others_stop_at_once(routing, carrier):
    await routing.setup(directory(strategy="ring_all"))
    await carrier.set_phone(PHONES["alice"], "never")
    await carrier.set_phone(PHONES["bob"], "answer", delay=1.5)
    await carrier.set_phone(PHONES["carol"], "never")
    leg = await carrier.call(TEAM_NUMBER)
    phones = {n: await carrier.wait_rung(PHONES[n]) for n in ("alice", "bob", "carol")}
    # All three ring at once.
    rang = [p.rang_at for p in phones.values()]
    assert max(rang) - min(rang) < 0.5
    await routing.wait_bridged()
    bob = phones["bob"]
    await carrier.wait_for(lambda: bob.answered, 5, "bob to report his answer")
    for name in ("alice", "carol"):
        await carrier.wait_for(lambda p=phones[name]: p.ended, 2, f"{name} to stop ringing")
        assert not phones[name].answered
        assert phones[name].ended_at - bob.answered_at < 1.0
    await carrier.hangup_caller(leg)
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "answered" and call.answered_by == "bob"
    assert sorted(call.attempts) == [("alice", "cancelled"), ("bob", "answered"), ("carol", "cancelled")]
    await routing.assert_clean()


async def test_caller_hangs_up_while_a_member_rings(routing, carrier):
    await routing.setup(directory(available=("alice",)))
    await carrier.set_phone(PHONES["alice"], "never")
    leg = await carrier.call(TEAM_NUMBER)
    alice = await carrier.wait_rung(PHONES["alice"])
    await asyncio.sleep(1)
    await carrier.hangup_caller(leg)
    await carrier.wait_for(lambda: alice.ended, 5, "alice's phone to stop")
    assert alice.ended_at - leg.ended_at < 1.0
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "abandoned"
    assert call.attempts == [("alice", "cancelled")]
    await routing.assert_clean()


async def test_nobody_available_runs_the_fallback(routing, carrier):
    await routing.setup(directory(available=()))
    leg = await carrier.call(TEAM_NUMBER)
    # The shipped fallback context answers with an announcement and hangs up.
    await carrier.wait_for(lambda: leg.ended_at is not None, 15, "the fallback to end the call")
    assert leg.answered and leg.connected_seconds > 1
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "no_one_available" and call.attempts == []
    assert not carrier.phone(PHONES["alice"])
    await routing.assert_clean()


async def test_maximum_wait_reached_runs_the_fallback(routing, carrier):
    await routing.setup(directory(available=("alice",), ring_time=30, max_wait=10))
    await carrier.set_phone(PHONES["alice"], "never")
    leg = await carrier.call(TEAM_NUMBER)
    alice = await carrier.wait_rung(PHONES["alice"])
    await carrier.wait_for(lambda: alice.ended, 15, "alice's phone to stop at max wait")
    assert 9 <= alice.ring_seconds <= 11.5
    await carrier.wait_for(lambda: leg.ended_at is not None, 15, "the fallback to end the call")
    assert leg.answered  # by the fallback's announcement
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "timed_out"
    assert call.attempts == [("alice", "cancelled")]
    assert 9.5 <= call.wait_seconds <= 11.5
    await routing.assert_clean()


async def test_fallback_to_a_number(routing, carrier):
    await routing.setup(directory(available=(), fallback={"kind": "number", "target": "+31610000004"}))
    await carrier.set_phone(PHONES["dave"], "answer")
    leg = await carrier.call(TEAM_NUMBER)
    dave = await carrier.wait_rung(PHONES["dave"])
    await carrier.wait_for(lambda: leg.answered and dave.answered, 10, "caller connected to the fallback number")
    await carrier.hangup_caller(leg)
    await carrier.wait_for(lambda: dave.ended, 5, "the fallback leg to end")
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "no_one_available"
    await routing.assert_clean()


@pytest.mark.parametrize("who", ["caller", "member"])
async def test_either_side_hangs_up_after_talking(routing, carrier, who):
    await routing.setup(directory(available=("alice",)))
    await carrier.set_phone(PHONES["alice"], "answer")
    leg = await carrier.call(TEAM_NUMBER)
    alice = await carrier.wait_rung(PHONES["alice"])
    await routing.wait_bridged()
    await asyncio.sleep(2)
    if who == "caller":
        await carrier.hangup_caller(leg)
        await carrier.wait_for(lambda: alice.ended, 5, "alice to be released")
    else:
        await carrier.hangup_phone(alice)
        await carrier.wait_for(lambda: leg.ended_at is not None, 5, "the caller to be released")
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "answered"
    assert 1.8 <= call.talk_seconds <= 3.5
    await routing.assert_clean()


async def test_unknown_number_gets_an_announcement(routing, carrier):
    await routing.setup(directory())
    leg = await carrier.call("3120999999")
    await carrier.wait_for(lambda: leg.ended_at is not None, 15, "the announcement to end the call")
    assert leg.answered and leg.connected_seconds > 1
    assert await routing.calls() == []
    await routing.assert_clean()


async def test_availability_change_is_used_by_the_very_next_call(routing, carrier):
    await routing.setup(directory(available=("bob",)))
    await carrier.set_phone(PHONES["alice"], "answer")
    await carrier.set_phone(PHONES["bob"], "answer")
    await routing.set_available("alice", True)
    leg = await carrier.call(TEAM_NUMBER)
    await routing.wait_bridged()
    await carrier.hangup_caller(leg)
    await routing.wait_calls_finished(1)
    # Alice leaves; her availability had an expiry that has now passed for Bob too.
    await routing.set_available("alice", False)
    await routing.set_available("bob", True, until=datetime.now(UTC) + timedelta(seconds=1))
    await asyncio.sleep(1.2)
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_for(lambda: leg.ended_at is not None, 15, "the fallback to end the call")
    first, second = await routing.wait_calls_finished(2)
    assert first.answered_by == "alice" and first.attempts == [("alice", "answered")]
    assert second.outcome == "no_one_available" and second.attempts == []
    assert len(carrier.phone(PHONES["bob"])) == 0
    await routing.assert_clean()
