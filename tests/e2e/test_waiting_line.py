"""The waiting line with real SIP calls: more callers than members, each answered in arrival order; every way out of the line."""

import asyncio
import itertools

import pytest
from sqlalchemy import select

from teamfoned.store.engine import create_sessionmaker
from teamfoned.store.tables import waiting_entries

from .routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = pytest.mark.e2e

TWO = ("alice", "bob")


def callers_answered_in_order(legs) -> bool:
    answered = [leg for leg in legs if leg.answered_at is not None]
    return [leg.uniqueid for leg in sorted(answered, key=lambda leg: leg.answered_at)] == [
        leg.uniqueid for leg in sorted(answered, key=lambda leg: leg.sent_at)]


def overlapping_rings(carrier, names) -> dict:
    """Phones that had two calls at once (each call from its ring to its end)."""
    overlaps = {}
    for name in names:
        spans = sorted((c.rang_at, c.ended_at or float("inf")) for c in carrier.phone(PHONES[name]))
        bad = [(x, y) for x, y in itertools.pairwise(spans) if y[0] < x[1] - 0.2]
        if bad:
            overlaps[name] = bad
    return overlaps


async def line_entries(routing) -> list:
    async with create_sessionmaker(routing.engine)() as session:
        return (await session.execute(select(waiting_entries))).all()


async def test_more_callers_than_members_all_answered_in_arrival_order(routing_each_db, carrier):
    routing = routing_each_db
    await routing.setup(directory(strategy="linear", ring_time=5, max_wait=30,
                                  team_members=TWO, available=TWO))
    for name in TWO:
        # Each member talks for 2 s and hangs up: a member is freed every second or so.
        await carrier.set_phone(PHONES[name], "hangup", delay=0.3, after=2)
    legs = []
    for n in range(5):
        legs.append(await carrier.call(TEAM_NUMBER, caller_id=f"+3120123450{n}"))
        await asyncio.sleep(0.4)
    for leg in legs:
        await asyncio.wait_for(leg.ended.wait(), 30)
    records = await routing.wait_calls_finished(5)
    # Every caller was answered (nobody sent to the fallback while a member would be free
    # within the max wait), in the order they called.
    assert [r.outcome for r in records] == ["answered"] * 5
    assert all(leg.answered for leg in legs)
    assert callers_answered_in_order(legs)
    # The callers who waited were in the line, and each left it.
    entries = await line_entries(routing)
    assert len(entries) >= 3 and all(e.left_at is not None for e in entries)
    # No member was rung for two callers at once, and no member was rung who would not answer.
    assert overlapping_rings(carrier, TWO) == {}
    assert sum(len(carrier.phone(PHONES[n])) for n in TWO) == 5
    await routing.assert_clean()


async def test_caller_hangs_up_in_the_line_abandoned_with_time_in_line(routing, carrier):
    await routing.setup(directory(max_wait=30, team_members=("alice",), available=("alice",)))
    await carrier.set_phone(PHONES["alice"], "answer", delay=0.3)
    first = await carrier.call(TEAM_NUMBER, caller_id="+31201234501")
    await routing.wait_bridged()
    second = await carrier.call(TEAM_NUMBER, caller_id="+31201234502")
    await carrier.wait_for(lambda: second.ringing_at is not None, 10, "the second caller to hear ringing")
    await asyncio.sleep(2)
    await carrier.hangup_caller(second)
    await asyncio.wait_for(second.ended.wait(), 5)
    assert not second.answered
    assert len(carrier.phone(PHONES["alice"])) == 1  # never rung for the waiting caller
    await carrier.hangup_caller(first)
    answered, abandoned = await routing.wait_calls_finished(2)
    assert answered.outcome == "answered"
    assert abandoned.outcome == "abandoned" and abandoned.attempts == []
    assert 1.5 <= abandoned.wait_seconds <= 4
    [entry] = await line_entries(routing)
    assert entry.call_id == abandoned.id
    assert 1.5 <= (entry.left_at - entry.joined_at).total_seconds() <= 4
    await routing.assert_clean()


async def test_max_wait_in_the_line_is_timed_out_then_the_fallback(routing, carrier):
    await routing.setup(directory(max_wait=10, team_members=("alice",), available=("alice",)))
    await carrier.set_phone(PHONES["alice"], "answer", delay=0.3)
    first = await carrier.call(TEAM_NUMBER, caller_id="+31201234501")
    await routing.wait_bridged()
    second = await carrier.call(TEAM_NUMBER, caller_id="+31201234502")
    # The shipped fallback answers with its announcement and ends the call.
    await asyncio.wait_for(second.ended.wait(), 20)
    assert second.answered
    assert len(carrier.phone(PHONES["alice"])) == 1
    await carrier.hangup_caller(first)
    _, timed_out = await routing.wait_calls_finished(2)
    assert timed_out.outcome == "timed_out" and timed_out.attempts == []
    assert 9.5 <= timed_out.wait_seconds <= 12
    await routing.assert_clean()


async def test_every_member_unavailable_while_callers_wait_sends_them_to_the_fallback(routing, carrier):
    await routing.setup(directory(max_wait=30, team_members=("alice",), available=("alice",)))
    await carrier.set_phone(PHONES["alice"], "answer", delay=0.3)
    first = await carrier.call(TEAM_NUMBER, caller_id="+31201234501")
    await routing.wait_bridged()
    second = await carrier.call(TEAM_NUMBER, caller_id="+31201234502")
    await carrier.wait_for(lambda: second.ringing_at is not None, 10, "the second caller to hear ringing")
    await asyncio.sleep(1)
    await routing.set_available("alice", False)
    await asyncio.wait_for(second.ended.wait(), 15)
    assert second.answered  # by the fallback's announcement, long before the max wait
    await carrier.hangup_caller(first)
    _, waited = await routing.wait_calls_finished(2)
    assert waited.outcome == "no_one_available" and waited.attempts == []
    assert waited.wait_seconds < 10
    await routing.assert_clean()


async def test_a_team_may_wait_for_members_to_come_on_duty(routing, carrier):
    await routing.setup(directory(max_wait=30, team_members=("alice",), available=()))
    await routing.update_team(wait_when_none_available=True)
    await carrier.set_phone(PHONES["alice"], "answer", delay=0.3)
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_for(lambda: leg.ringing_at is not None, 10, "the caller to hear ringing")
    await asyncio.sleep(1.5)
    assert not carrier.phone(PHONES["alice"]) and leg.ended_at is None
    await routing.set_available("alice", True)
    await carrier.wait_for(lambda: leg.answered, 10, "alice to take the waiting caller")
    await carrier.hangup_caller(leg)
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "answered" and call.answered_by == "alice"
    await routing.assert_clean()


async def test_a_waiting_caller_hears_their_place_in_the_teams_language(routing, carrier):
    await routing.setup(directory(max_wait=30, team_members=("alice",), available=("alice",)))
    await routing.update_team(announce_position_every=10, language="nl")
    await carrier.set_phone(PHONES["alice"], "answer", delay=0.3)
    # What Asterisk itself reports on the daemon's connection: its playback events.
    playbacks = []
    dispatch = routing.daemon.dispatcher.dispatch

    def spy(event):
        if event.get("type") in ("PlaybackStarted", "PlaybackFinished"):
            playbacks.append(event)
        dispatch(event)

    routing.daemon.dispatcher.dispatch = spy
    first = await carrier.call(TEAM_NUMBER, caller_id="+31201234501")
    await routing.wait_bridged()
    second = await carrier.call(TEAM_NUMBER, caller_id="+31201234502")
    await carrier.wait_for(lambda: any(e["type"] == "PlaybackFinished" for e in playbacks), 10,
                           "the position announcement to play")
    finished = next(e["playback"] for e in playbacks if e["type"] == "PlaybackFinished")
    # "You are caller number" and then the number 1 played whole, in Dutch, on the waiting
    # caller's channel (a media list ends on its last item).
    assert finished["state"] == "done" and finished["language"] == "nl"
    assert finished["media_uri"] == "number:1"
    [channel] = [c for c in await routing.daemon.ari.list_channels()
                 if c["caller"]["number"] == "+31201234502"]
    assert finished["target_uri"] == f"channel:{channel['id']}"
    assert not second.answered  # heard as early media: the caller is not answered by it
    # Alice is freed: the waiting caller is put through.
    await carrier.hangup_caller(first)
    await carrier.wait_for(lambda: second.answered, 10, "alice to take the waiting caller")
    await carrier.hangup_caller(second)
    records = await routing.wait_calls_finished(2)
    assert [r.outcome for r in records] == ["answered", "answered"]
    await routing.assert_clean()
