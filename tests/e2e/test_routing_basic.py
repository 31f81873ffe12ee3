"""Routing a team call with real SIP calls: answer, no answer, busy, decline, and the records they leave."""

import pytest

from teamfoned.telephony.ari_events import CALL_EVENTS, CLIENT_EVENTS

from .routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = pytest.mark.e2e


async def test_one_available_member_answers_and_is_bridged(routing, carrier):
    await routing.setup(directory(available=("alice",)))
    await carrier.set_phone(PHONES["alice"], "answer", delay=1)
    leg = await carrier.call(TEAM_NUMBER, caller_id="+31201234567")

    phone = await carrier.wait_rung(PHONES["alice"])
    # The caller hears ringing before anyone answers.
    await carrier.wait_for(lambda: leg.ringing_at is not None, 5, "ringing for the caller")
    assert leg.ringing_at < phone.rang_at + 1
    await carrier.wait_for(lambda: leg.answered, 10, "the caller to be connected")
    assert phone.caller_id_num == "+31201234567"
    await routing.wait_bridged()

    await carrier.hangup_caller(leg)
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "answered" and call.answered_by == "alice"
    assert call.attempts == [("alice", "answered")]
    assert 0.8 <= call.wait_seconds <= 4
    assert call.talk_seconds >= 0
    await routing.assert_clean()
    # The whole call ran with Asterisk sending the app only the events the daemon uses.
    app = await routing.daemon.ari.get_application()
    assert {e["type"] for e in app["events_allowed"]} == CALL_EVENTS | CLIENT_EVENTS
    assert app["events_disallowed"] == []


async def test_first_member_never_answers_second_answers(routing, carrier):
    await routing.setup(directory(available=("alice", "bob")))
    await carrier.set_phone(PHONES["alice"], "never")
    await carrier.set_phone(PHONES["bob"], "answer", delay=0.5)
    leg = await carrier.call(TEAM_NUMBER)

    alice = await carrier.wait_rung(PHONES["alice"])
    bob = await carrier.wait_rung(PHONES["bob"], timeout=10)
    # Alice rang for the team's ring time (5 s), then stopped before Bob rang.
    assert alice.ended and 4.5 <= alice.ring_seconds <= 6.5
    assert bob.rang_at >= alice.ended_at - 0.5
    await carrier.wait_for(lambda: leg.answered, 5, "the caller to be connected")
    await routing.wait_bridged()
    await carrier.hangup_caller(leg)

    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "answered" and call.answered_by == "bob"
    assert call.attempts == [("alice", "no_answer"), ("bob", "answered")]
    await routing.assert_clean()


@pytest.mark.parametrize(("mode", "result"), [("busy", "busy"), ("decline", "rejected"),
                                               ("unreachable", "unreachable")])
async def test_busy_decline_unreachable_move_on_to_the_next_member(routing, carrier, mode, result):
    await routing.setup(directory(available=("alice", "bob")))
    await carrier.set_phone(PHONES["alice"], mode)
    await carrier.set_phone(PHONES["bob"], "answer")
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_rung(PHONES["bob"], timeout=10)
    await carrier.wait_for(lambda: leg.answered, 5, "the caller to be connected")
    await routing.wait_bridged()
    await carrier.hangup_caller(leg)
    [call] = await routing.wait_calls_finished(1)
    assert call.attempts == [("alice", result), ("bob", "answered")]
    # Moving on took well under a ring time: the refusal was acted on at once.
    assert call.wait_seconds < 3
    await routing.assert_clean()
