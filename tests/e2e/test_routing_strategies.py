"""Strategies, wrap-up and concurrent calls, observed over several real calls."""

import asyncio

import pytest

from .routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = pytest.mark.e2e


async def answered_call(routing, carrier):
    """Place one call, let it be answered and talk briefly, hang up; return who answered."""
    before = len(await routing.calls())
    leg = await carrier.call(TEAM_NUMBER)
    await routing.wait_bridged()
    await carrier.hangup_caller(leg)
    records = await routing.wait_calls_finished(before + 1)
    await routing.assert_clean()
    return records[-1].answered_by


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("linear", ["alice", "alice", "alice"]),
        ("round_robin", ["alice", "bob", "carol", "alice"]),
        ("longest_idle", ["alice", "bob", "carol", "alice"]),
        ("fewest_calls", ["alice", "bob", "carol"]),
    ],
)
async def test_strategy_orders_members_as_documented(routing, carrier, strategy, expected):
    await routing.setup(directory(strategy=strategy))
    for name in ("alice", "bob", "carol"):
        await carrier.set_phone(PHONES[name], "answer")
    seen = [await answered_call(routing, carrier) for _ in expected]
    assert seen == expected


async def test_wrap_up_keeps_a_member_out_of_the_next_call(routing, carrier):
    await routing.setup(directory(strategy="linear", wrap_up=5))
    for name in ("alice", "bob"):
        await carrier.set_phone(PHONES[name], "answer")
    assert await answered_call(routing, carrier) == "alice"
    # Within alice's 5 s of wrap-up the next call goes to bob ...
    assert await answered_call(routing, carrier) == "bob"
    await asyncio.sleep(5)
    # ... and after it, linear order holds again.
    assert await answered_call(routing, carrier) == "alice"


async def test_concurrent_calls_never_ring_a_busy_member(routing_each_db, carrier):
    routing = routing_each_db
    await routing.setup(directory(strategy="linear", available=("alice", "bob")))
    for name in ("alice", "bob"):
        await carrier.set_phone(PHONES[name], "answer", delay=1)
    legs = [await carrier.call(TEAM_NUMBER, caller_id=f"+3120123450{i}") for i in range(3)]
    await carrier.wait_for(lambda: sum(leg.answered for leg in legs) >= 2, 10, "two callers connected")
    # The third caller found both members busy: they wait in the line, nobody else rings.
    await asyncio.sleep(1.5)
    [third] = [leg for leg in legs if not leg.answered]
    assert third.ended_at is None
    assert len(carrier.phone(PHONES["alice"])) == 1
    assert len(carrier.phone(PHONES["bob"])) == 1
    # A member freed takes the waiting caller.
    first = next(leg for leg in legs if leg.answered)
    await carrier.hangup_caller(first)
    await carrier.wait_for(lambda: third.answered, 10, "the waiting caller to be connected")
    for leg in legs:
        if leg.ended_at is None:
            await carrier.hangup_caller(leg)
    records = await routing.wait_calls_finished(3)
    assert [r.outcome for r in records] == ["answered"] * 3
    # Every attempt that rang a phone was the only one on that member at the time.
    rang = [a for r in records for a in r.attempts if a[1] != "failed"]
    assert sorted(rang) == sorted((r.answered_by, "answered") for r in records)
    assert {r.answered_by for r in records} == {"alice", "bob"}
    await routing.assert_clean()
