"""Call confirmation with real SIP calls: a mobile voicemail never gets the caller."""

import asyncio

import pytest

from teamfoned.routing.call import PROMPT_LIMIT_SECONDS

from .routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = pytest.mark.e2e


async def test_member_presses_1_and_is_bridged(routing, carrier):
    await routing.setup(directory(available=("alice",), confirm_calls=True))
    await carrier.set_phone(PHONES["alice"], "dtmf", delay=0.5, after=1, digit="1")
    mark = routing.pbx.instance.log_mark()
    leg = await carrier.call(TEAM_NUMBER)
    alice = await carrier.wait_rung(PHONES["alice"])
    await carrier.wait_for(lambda: alice.answered, 5, "alice to answer")
    # The caller is not connected while alice only listens to the prompt.
    await asyncio.sleep(0.5)
    assert not leg.answered
    await routing.wait_bridged()
    assert leg.answered_at - alice.answered_at >= 0.9
    # Alice heard the prompt start: the daemon's media list plays (it once failed at once,
    # in silence, as Asterisk took the whole list for one file name).
    logged = routing.pbx.instance.logged_since(mark)
    assert not [line for line in logged if "Playback failed" in line], logged
    assert any("Playing 'calling." in line for line in logged), logged
    await carrier.hangup_caller(leg)
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "answered" and call.attempts == [("alice", "answered")]
    await routing.assert_clean()


async def test_voicemail_answer_is_a_confirm_timeout_and_the_next_member_rings(routing, carrier):
    await routing.setup(directory(available=("alice", "bob"), confirm_calls=True))
    await carrier.set_phone(PHONES["alice"], "voicemail")
    await carrier.set_phone(PHONES["bob"], "dtmf", delay=0, after=0.5, digit="1")
    leg = await carrier.call(TEAM_NUMBER)
    alice = await carrier.wait_rung(PHONES["alice"])
    bob = await carrier.wait_rung(PHONES["bob"], timeout=10 + PROMPT_LIMIT_SECONDS)
    # The voicemail box held the leg for the prompt and then the confirmation time (4 s),
    # never the caller.
    assert alice.answered and alice.ended
    assert 4.5 <= alice.connected_seconds <= 4 + PROMPT_LIMIT_SECONDS
    await routing.wait_bridged()
    await carrier.hangup_caller(leg)
    [call] = await routing.wait_calls_finished(1)
    assert call.attempts == [("alice", "confirm_timeout"), ("bob", "answered")]
    assert call.answered_by == "bob"
    assert bob.rang_at >= alice.ended_at - 0.5
    await routing.assert_clean()


async def test_the_time_to_press_1_starts_when_the_prompt_ends(routing, carrier):
    # "calling <ten digits>, press 1" takes longer than the bench's confirmation time (4 s): a
    # member who listens to the end and then presses 1 must still get the caller.
    await routing.setup(directory(available=("alice",), confirm_calls=True))
    await carrier.set_phone(PHONES["alice"], "answer", delay=0)
    mark = routing.pbx.instance.log_mark()
    leg = await carrier.call(TEAM_NUMBER)
    alice = await carrier.wait_rung(PHONES["alice"])
    await carrier.wait_for(lambda: alice.answered, 5, "alice to answer")
    # The PBX's log, not a carrier event, tells where the prompt is: poll it.
    for _ in range(300):
        if _last_item_playing(routing.pbx.instance.logged_since(mark)):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError("the prompt never reached its last item")
    # Past the prompt's end (its last item, "1", is under a second), inside the 4 s after it;
    # long after 4 s from the answer.
    await asyncio.sleep(2.5)
    assert not alice.ended and not leg.answered
    await carrier.send_dtmf(alice.uniqueid, "1")
    await routing.wait_bridged()
    await carrier.hangup_caller(leg)
    [call] = await routing.wait_calls_finished(1)
    assert call.attempts == [("alice", "answered")]
    assert call.wait_seconds >= 8  # the whole prompt was heard before the caller got alice
    await routing.assert_clean()


def _last_item_playing(logged: list[str]) -> bool:
    """The prompt reached its last item: "press" said, then the accept key's digit."""
    playing = [line for line in logged if "Playing '" in line]
    pressed = [i for i, line in enumerate(playing) if "Playing 'vm-press." in line]
    return bool(pressed) and any("Playing 'digits/1." in line for line in playing[pressed[0] + 1:])


async def test_another_key_declines(routing, carrier):
    await routing.setup(directory(available=("alice", "bob"), confirm_calls=True))
    await carrier.set_phone(PHONES["alice"], "dtmf", delay=0, after=0.5, digit="2")
    await carrier.set_phone(PHONES["bob"], "dtmf", delay=0, after=0.5, digit="1")
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_rung(PHONES["bob"], timeout=10)
    await routing.wait_bridged()
    await carrier.hangup_caller(leg)
    [call] = await routing.wait_calls_finished(1)
    assert call.attempts == [("alice", "declined"), ("bob", "answered")]
    await routing.assert_clean()


async def test_ring_all_the_slower_confirmer_is_told_too_late(routing, carrier):
    await routing.setup(directory(strategy="ring_all", available=("alice", "bob"), confirm_calls=True))
    await carrier.set_phone(PHONES["alice"], "dtmf", delay=0, after=2.5, digit="1")
    await carrier.set_phone(PHONES["bob"], "dtmf", delay=0, after=0.8, digit="1")
    leg = await carrier.call(TEAM_NUMBER)
    alice = await carrier.wait_rung(PHONES["alice"])
    await routing.wait_bridged()
    # Alice presses 1 after Bob took the call: she hears "sorry" and is hung up.
    await carrier.wait_for(lambda: alice.ended, 6, "alice to be hung up")
    await carrier.hangup_caller(leg)
    [call] = await routing.wait_calls_finished(1)
    assert call.answered_by == "bob"
    assert sorted(call.attempts) == [("alice", "too_late"), ("bob", "answered")]
    await routing.assert_clean()
