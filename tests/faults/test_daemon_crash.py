"""The daemon killed (SIGKILL) or down: callers still get an answer, talking pairs talk on, records close right."""

import asyncio
import time

import pytest

from tests.e2e.routing_bench import PHONES, TEAM_NUMBER, directory

# No fault test may hang the suite: bounded, set-up and clean-up included.
pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.timeout(150)]


async def test_daemon_down_new_call_reaches_dialplan_fallback(crashable, carrier):
    await crashable.setup(directory(available=("alice",)))
    crashable.process.kill()
    leg = await carrier.call(TEAM_NUMBER)
    # Stasis() fails at once with no app connected (STASISSTATUS=FAILED): the shipped
    # fallback answers and plays its announcement.
    await carrier.wait_for(lambda: leg.answered, 10, "the dialplan fallback to answer")
    await carrier.wait_for(lambda: leg.ended_at is not None, 20, "the fallback to hang up")
    print(f"daemon down: the dialplan fallback answered and played {leg.connected_seconds:.2f} s "
          "of announcement")
    assert leg.connected_seconds > 1.0
    assert carrier.phone(PHONES["alice"]) == []  # nobody was rung by a daemon that is not there
    assert await crashable.calls() == []
    await crashable.assert_clean()


async def test_daemon_killed_while_member_rings(crashable, carrier):
    # A long ring time: Asterisk's own originate timeout must not be what ends the leg.
    await crashable.setup(directory(available=("alice", "bob"), ring_time=30, max_wait=60))
    await carrier.set_phone(PHONES["alice"], "never")
    leg = await carrier.call(TEAM_NUMBER)
    alice = await carrier.wait_rung(PHONES["alice"])
    crashable.process.kill()
    killed = time.monotonic()
    await asyncio.sleep(1)
    assert not alice.ended and leg.ended_at is None  # Asterisk keeps both while we are away

    ready = await crashable.process.start_ready()
    await carrier.wait_for(lambda: alice.ended, 10, "the orphan member leg to be hung up")
    leg_hung_up = time.monotonic() - killed
    await carrier.wait_for(lambda: leg.answered, 10, "the caller to reach the fallback")
    fallback_after = leg.answered_at - killed
    [call] = await crashable.wait_calls_finished(1, timeout=10)
    recorded = time.monotonic() - killed
    assert call.outcome == "fallback"
    assert call.attempts == [("alice", "cancelled")]
    assert call.node == "fault-node"
    assert await crashable.open_attempts() == []  # alice is not left busy
    await carrier.wait_for(lambda: leg.ended_at is not None, 20, "the fallback announcement to end")
    clean = await crashable.assert_clean()
    print(f"SIGKILL while ringing: restart+resync {ready:.2f} s; after the kill: member leg hung up "
          f"{leg_hung_up:.2f} s, caller in fallback {fallback_after:.2f} s, record closed {recorded:.2f} s; "
          f"everything clean {clean:.2f} s after the announcement")


async def test_daemon_killed_while_bridged_adopts_the_call(crashable, carrier):
    await crashable.setup(directory(available=("alice",)))
    await carrier.set_phone(PHONES["alice"], "answer")
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_for(lambda: leg.answered, 10, "the caller to be connected")
    await crashable.wait_bridged()
    alice = carrier.phone(PHONES["alice"])[0]
    talk_started = time.monotonic()

    crashable.process.kill()
    await asyncio.sleep(3)
    # Asterisk holds the bridge: the conversation goes on without the daemon.
    assert leg.ended_at is None and not alice.ended
    [bridge] = await crashable.bridges()
    assert len(bridge["channels"]) == 2

    ready = await crashable.process.start_ready()
    adopted = await crashable.process.wait_event("call_adopted", 5)
    assert [c.outcome for c in await crashable.calls()] == [None]  # adopted, not closed
    await asyncio.sleep(2)
    assert leg.ended_at is None and not alice.ended

    await carrier.hangup_caller(leg)
    talked = time.monotonic() - talk_started
    await carrier.wait_for(lambda: alice.ended, 10, "the member leg to be hung up")
    [call] = await crashable.wait_calls_finished(1, timeout=10)
    assert call.outcome == "answered" and call.answered_by == "alice"
    assert call.attempts == [("alice", "answered")]
    assert talked - 1.5 <= call.talk_seconds <= talked + 1.5
    await crashable.assert_clean()
    print(f"SIGKILL while bridged: restart+resync {ready:.2f} s, adopted bridge {adopted['bridge']}; "
          f"talk {call.talk_seconds:.2f} s recorded for {talked:.2f} s measured")
