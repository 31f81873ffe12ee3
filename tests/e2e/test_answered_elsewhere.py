"""A teammate's leg hung up because someone else answered ends with "answered elsewhere" at the phone."""

import pytest

from .routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = pytest.mark.e2e

ANSWERED_ELSEWHERE = 26  # Q.850


async def test_ring_all_the_others_leg_ends_answered_elsewhere(routing, carrier):
    await routing.setup(directory(strategy="ring_all", available=("alice", "bob")))
    await carrier.set_phone(PHONES["alice"], "never")
    await carrier.set_phone(PHONES["bob"], "answer", delay=1)
    leg = await carrier.call(TEAM_NUMBER)
    alice = await carrier.wait_rung(PHONES["alice"])
    await routing.wait_bridged()
    await carrier.wait_for(lambda: alice.ended, 5, "alice's phone to stop ringing")
    # The carrier's Asterisk takes this cause from the Reason header of the PBX's CANCEL.
    assert (alice.cause, alice.cause_text) == (ANSWERED_ELSEWHERE, "Answered elsewhere")
    await carrier.hangup_caller(leg)
    [call] = await routing.wait_calls_finished(1)
    assert sorted(call.attempts) == [("alice", "cancelled"), ("bob", "answered")]
    await routing.assert_clean()


async def test_a_leg_the_caller_left_keeps_the_normal_cause(routing, carrier):
    await routing.setup(directory(available=("alice",), ring_time=30))
    await carrier.set_phone(PHONES["alice"], "never")
    leg = await carrier.call(TEAM_NUMBER)
    alice = await carrier.wait_rung(PHONES["alice"])
    await carrier.hangup_caller(leg)
    await carrier.wait_for(lambda: alice.ended, 5, "alice's phone to stop")
    assert alice.cause != ANSWERED_ELSEWHERE and alice.cause_text != "Answered elsewhere"
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "abandoned"
    await routing.assert_clean()


async def test_a_leg_whose_ring_time_ran_out_keeps_the_normal_cause(routing, carrier):
    await routing.setup(directory(strategy="linear", available=("alice", "bob"), ring_time=5))
    await carrier.set_phone(PHONES["alice"], "never")
    await carrier.set_phone(PHONES["bob"], "answer")
    leg = await carrier.call(TEAM_NUMBER)
    alice = await carrier.wait_rung(PHONES["alice"])
    await routing.wait_bridged()
    assert alice.ended and alice.cause != ANSWERED_ELSEWHERE
    await carrier.hangup_caller(leg)
    [call] = await routing.wait_calls_finished(1)
    assert call.attempts == [("alice", "no_answer"), ("bob", "answered")]
    await routing.assert_clean()
