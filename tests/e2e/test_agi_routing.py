"""FastAGI mode with real SIP calls through the shipped sample dialplan (extensions_agi.conf.sample)."""

import asyncio

import pytest
import pytest_asyncio

from tests.bench.topology import AGI_PORT

from .routing_bench import PHONES, TEAM_NUMBER, RoutingBench, directory

pytestmark = pytest.mark.e2e

# Routed by the bench's trunk into [teamfoned-agi] (tests/bench/topology.py).
AGI_NUMBER = "3120555200"


def agi_directory(**kwargs):
    doc = directory(**kwargs)
    # One team, two numbers: one into Stasis(), one into the FastAGI dialplan.
    doc["tenants"][0]["teams"][0]["numbers"] = [TEAM_NUMBER, AGI_NUMBER]
    return doc


@pytest_asyncio.fixture(loop_scope="session")
async def agi(pbx, carrier, tmp_path):
    bench = RoutingBench(pbx, carrier, tmp_path)
    bench.agi = True
    try:
        yield bench
    finally:
        await bench.stop()


async def test_linear_no_answer_then_the_next_member_answers(agi, carrier):
    await agi.setup(agi_directory(available=("alice", "bob")))
    await carrier.set_phone(PHONES["alice"], "never")
    await carrier.set_phone(PHONES["bob"], "answer", delay=0.5)
    leg = await carrier.call(AGI_NUMBER, caller_id="+31201234567", caller_name="Jan")
    alice = await carrier.wait_rung(PHONES["alice"])
    bob = await carrier.wait_rung(PHONES["bob"], timeout=10)
    assert alice.ended and 4.5 <= alice.ring_seconds <= 6.5
    assert bob.caller_id_num == "+31201234567"
    await carrier.wait_for(lambda: leg.answered, 5, "the caller to be connected")
    await carrier.hangup_caller(leg)
    [call] = await agi.wait_calls_finished(1)
    assert call.outcome == "answered" and call.answered_by == "bob"
    assert call.attempts == [("alice", "no_answer"), ("bob", "answered")]
    assert call.node == "bench-node" and call.talk_seconds >= 0
    await agi.assert_clean()


async def test_ring_all_first_answer_frees_the_others_at_once(agi, carrier):
    await agi.setup(agi_directory(strategy="ring_all"))
    await carrier.set_phone(PHONES["alice"], "never")
    await carrier.set_phone(PHONES["bob"], "answer", delay=1)
    await carrier.set_phone(PHONES["carol"], "never")
    leg = await carrier.call(AGI_NUMBER)
    phones = {n: await carrier.wait_rung(PHONES[n]) for n in ("alice", "bob", "carol")}
    await carrier.wait_for(lambda: leg.answered, 10, "the caller to be connected")
    for name in ("alice", "carol"):
        await carrier.wait_for(lambda p=phones[name]: p.ended, 5, f"{name} to stop ringing")
    # While Bob talks, only Bob is booked: Dial's answer hook told the daemon at once.
    names = await agi.member_names()
    await asyncio.sleep(0.5)
    assert [names[a.member_id] for a in await agi.open_attempts()] == ["bob"]
    await carrier.hangup_caller(leg)
    [call] = await agi.wait_calls_finished(1)
    assert call.outcome == "answered" and call.answered_by == "bob"
    assert sorted(call.attempts) == [("alice", "cancelled"), ("bob", "answered"), ("carol", "cancelled")]
    await agi.assert_clean()


async def test_busy_moves_on_and_a_member_who_hangs_up_ends_the_call(agi, carrier):
    await agi.setup(agi_directory(available=("alice", "bob")))
    await carrier.set_phone(PHONES["alice"], "busy")
    await carrier.set_phone(PHONES["bob"], "hangup", delay=0.5, after=1)
    leg = await carrier.call(AGI_NUMBER)
    await carrier.wait_rung(PHONES["bob"], timeout=10)
    await leg.ended.wait()
    [call] = await agi.wait_calls_finished(1)
    assert call.outcome == "answered" and call.answered_by == "bob"
    assert call.attempts == [("alice", "busy"), ("bob", "answered")]
    await agi.assert_clean()


async def test_caller_hangs_up_while_a_member_rings(agi, carrier):
    await agi.setup(agi_directory(available=("alice",)))
    await carrier.set_phone(PHONES["alice"], "never")
    leg = await carrier.call(AGI_NUMBER)
    alice = await carrier.wait_rung(PHONES["alice"])
    await carrier.hangup_caller(leg)
    await carrier.wait_for(lambda: alice.ended, 5, "alice's phone to stop")
    [call] = await agi.wait_calls_finished(1)
    assert call.outcome == "abandoned"
    assert call.attempts == [("alice", "cancelled")]
    await agi.assert_clean()


async def test_nobody_available_goes_to_the_fallback(agi, carrier):
    await agi.setup(agi_directory(available=()))
    leg = await carrier.call(AGI_NUMBER)
    await carrier.wait_for(lambda: leg.ended_at is not None, 15, "the fallback to end the call")
    assert leg.answered  # by the shipped fallback's announcement
    [call] = await agi.wait_calls_finished(1)
    assert call.outcome == "no_one_available" and call.attempts == []
    await agi.assert_clean()


async def test_agi_and_stasis_calls_never_ring_a_member_twice_at_once(agi, carrier):
    await agi.setup(agi_directory(strategy="ring_all", ring_time=20, available=("alice", "bob")))
    for name in ("alice", "bob"):
        await carrier.set_phone(PHONES[name], "never")
    stasis, over_agi = await asyncio.gather(carrier.call(TEAM_NUMBER), carrier.call(AGI_NUMBER))
    for name in ("alice", "bob"):
        await carrier.wait_rung(PHONES[name])
    await asyncio.sleep(1)
    # Both calls want both members; the one claim in the database gives each member to one.
    for name in ("alice", "bob"):
        assert len(carrier.phone(PHONES[name])) == 1
    names = await agi.member_names()
    booked = [(a.call_id, names[a.member_id]) for a in await agi.open_attempts()]
    assert sorted(member for _, member in booked) == ["alice", "bob"]
    await asyncio.gather(carrier.hangup_caller(stasis), carrier.hangup_caller(over_agi))
    records = await agi.wait_calls_finished(2)
    tried = [member for record in records for member, _ in record.attempts]
    assert sorted(tried) == ["alice", "bob"]  # nobody was in both calls
    assert {c.outcome for c in records} <= {"abandoned", "no_one_available"}
    for name in ("alice", "bob"):
        assert len(carrier.phone(PHONES[name])) == 1
    await agi.assert_clean()


async def test_the_dialplan_falls_back_when_the_daemon_is_down(agi, carrier):
    await agi.setup(agi_directory(available=("alice",)))
    await agi.stop()
    leg = await carrier.call(AGI_NUMBER)
    await carrier.wait_for(lambda: leg.ended_at is not None, 15, "the fallback to end the call")
    assert leg.answered and leg.connected_seconds > 1  # the announcement played
    assert not carrier.phone(PHONES["alice"])
    await carrier.wait_idle()


async def test_a_peer_that_leaves_mid_hunt_frees_its_members_after_ring_time(agi, carrier):
    await agi.setup(agi_directory(available=("alice",)))
    reader, writer = await asyncio.open_connection(agi.pbx.topology.pbx_host, AGI_PORT)
    writer.write(f"agi_network: yes\nagi_network_script: route\nagi_uniqueid: 1.1\n"
                 f"agi_callerid: +31201234567\nagi_arg_1: {AGI_NUMBER}\n\n".encode())
    seen = []
    while not seen or not seen[-1].startswith(b"SET VARIABLE TEAMFONED_STATUS"):
        seen.append(await asyncio.wait_for(reader.readline(), 10))
        writer.write(b"200 result=1\n")
    assert seen[-1] == b'SET VARIABLE TEAMFONED_STATUS "DIAL"\n'
    writer.close()  # and no result ever comes
    names = await agi.member_names()
    assert [names[a.member_id] for a in await agi.open_attempts()] == ["alice"]
    # Released after the ring time (5 s) and the claim margin (2 s).
    [call] = await agi.wait_calls_finished(1, timeout=15)
    assert call.outcome == "failed" and call.attempts == [("alice", "failed")]
    assert await agi.open_attempts() == []
