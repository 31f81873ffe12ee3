"""Tiers (staged ring) with real SIP calls: tier 2 rings only after the team's wait, or at once when tier 1 has nobody available."""

import pytest

from .routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = pytest.mark.e2e

NEXT_TIER_AFTER = 3


def tiered(*, next_tier_after: int, **kwargs) -> dict:
    """alice in tier 1, bob in tier 2."""
    doc = directory(team_members=("alice", "bob"), **kwargs)
    [team] = doc["tenants"][0]["teams"]
    team["members"][1]["tier"] = 2
    team["next_tier_after"] = next_tier_after
    return doc


async def test_tier_two_joins_the_ringing_only_after_the_wait(routing, carrier):
    # ring_all: alice rings from the start, bob joins her once the caller has waited.
    await routing.setup(tiered(next_tier_after=NEXT_TIER_AFTER, strategy="ring_all", ring_time=10,
                               max_wait=20, available=("alice", "bob")))
    await carrier.set_phone(PHONES["alice"], "never")
    await carrier.set_phone(PHONES["bob"], "answer", delay=0.5)
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_for(lambda: leg.answered, 15, "bob to answer")
    [alice] = carrier.phone(PHONES["alice"])
    [bob] = carrier.phone(PHONES["bob"])
    # The carrier's own record of the INVITEs: tier 1's came first, tier 2's only after the
    # team's wait from when the caller called (the daemon's start of the call is later still).
    assert alice.rang_at < bob.rang_at
    assert bob.rang_at - leg.sent_at >= NEXT_TIER_AFTER
    await carrier.hangup_caller(leg)
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "answered" and call.answered_by == "bob"
    assert sorted(call.attempts) == [("alice", "cancelled"), ("bob", "answered")]
    await routing.assert_clean()


async def test_tier_one_unavailable_tier_two_rings_at_once(routing, carrier):
    # A wait past the max wait: had bob waited for it, he would never have rung.
    await routing.setup(tiered(next_tier_after=60, strategy="linear", ring_time=5, max_wait=12,
                               available=("bob",)))
    await carrier.set_phone(PHONES["bob"], "answer", delay=0.5)
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_for(lambda: leg.answered, 10, "bob to answer")
    assert carrier.phone(PHONES["alice"]) == []
    assert len(carrier.phone(PHONES["bob"])) == 1  # the call's first leg is tier 2's
    await carrier.hangup_caller(leg)
    [call] = await routing.wait_calls_finished(1)
    assert call.outcome == "answered" and call.attempts == [("bob", "answered")]
    await routing.assert_clean()


async def test_a_busy_tier_one_holds_tier_two_back_until_the_wait(routing, carrier):
    # alice (tier 1) talks to a first caller; the second caller waits in the line for her
    # until the team's wait is over, then bob (tier 2) is offered, while alice still talks.
    await routing.setup(tiered(next_tier_after=NEXT_TIER_AFTER, strategy="linear", ring_time=5,
                               max_wait=20, available=("alice", "bob")))
    await carrier.set_phone(PHONES["alice"], "answer", delay=0.3)
    await carrier.set_phone(PHONES["bob"], "answer", delay=0.3)
    first = await carrier.call(TEAM_NUMBER, caller_id="+31201234501")
    await routing.wait_bridged()
    second = await carrier.call(TEAM_NUMBER, caller_id="+31201234502")
    await carrier.wait_for(lambda: second.answered, 15, "bob to take the second caller")
    [alice] = carrier.phone(PHONES["alice"])
    [bob] = carrier.phone(PHONES["bob"])
    assert bob.rang_at - second.sent_at >= NEXT_TIER_AFTER
    assert alice.ended_at is None  # still talking to the first caller: not what freed bob's turn
    for leg in (first, second):
        await carrier.hangup_caller(leg)
    records = await routing.wait_calls_finished(2)
    assert sorted((r.answered_by, r.outcome) for r in records) == [("alice", "answered"), ("bob", "answered")]
    await routing.assert_clean()
