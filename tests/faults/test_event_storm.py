"""Event storms on the real bench: duplicate, unknown, stray and late events never leave a member busy or a record open."""

import asyncio
import uuid

import pytest

from tests.e2e.routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.timeout(120)]


def storm(caller: str, member: str, *kinds: str) -> list[dict]:
    """What a confused or replaying connection might deliver: duplicates, unknowns, strangers.

    (A ChannelHangupRequest is a real signal that the channel is ending, not noise: it is
    only sent once the call is over.)
    """
    stranger = str(uuid.uuid4())
    events = []
    for channel in (caller, member, stranger):
        for kind in ("ChannelLeftBridge", "ChannelVarset", "SomethingNew", "ChannelStateChange",
                     "StasisStart", *kinds):
            events.append({"type": kind, "channel": {"id": channel, "state": "Up"}, "args": []})
    events.append({"type": "StasisStart", "channel": {"id": stranger}, "args": ["teamfoned-leg"]})
    events.append({"type": "ChannelDestroyed", "channel": {"id": stranger}, "cause": 16})
    events.append({"no type": True})
    return events


async def test_storm_of_duplicate_and_unknown_events_during_a_real_call(in_process, carrier):
    bench = in_process
    await bench.setup(directory(available=("alice", "bob")))
    await carrier.set_phone(PHONES["alice"], "answer")
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_for(lambda: leg.answered, 10, "the caller to be connected")
    bridge = await bench.wait_bridged()
    caller_id, member_id = bridge["channels"]  # which is which does not matter to a storm
    dispatcher = bench.daemon.dispatcher
    injected = 0
    for _ in range(20):
        for event in storm(caller_id, member_id):
            dispatcher.dispatch(event)
            injected += 1
    await asyncio.sleep(1)
    # Still talking: a duplicate StasisStart or a ChannelLeftBridge on its own ends nothing.
    alice = carrier.phone(PHONES["alice"])[0]
    assert leg.ended_at is None and not alice.ended

    await carrier.hangup_caller(leg)
    [call] = await bench.wait_calls_finished(1, timeout=10)
    # Late duplicates after the end: nobody owns these channels any more.
    for event in storm(caller_id, member_id, "ChannelHangupRequest"):
        dispatcher.dispatch(event)
        injected += 1
    for kind in ("StasisEnd", "ChannelDestroyed", "ChannelLeftBridge"):
        for channel in (caller_id, member_id):
            dispatcher.dispatch({"type": kind, "channel": {"id": channel}, "cause": 16})
            injected += 1
    assert call.outcome == "answered" and call.attempts == [("alice", "answered")]
    await bench.assert_clean()
    assert [c.outcome for c in await bench.calls()] == ["answered"]
    print(f"event storm: {injected} injected events during and after a real call; one record, member free")
