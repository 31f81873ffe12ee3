"""PostgreSQL away for 60 s during calls, and every connection of the daemon terminated mid-call: nothing is lost or doubled."""

import asyncio
import time

import pytest

from tests.e2e.routing_bench import PHONES, TEAM_NUMBER, directory

from .fault_bench import InProcessBench

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.postgres, pytest.mark.timeout(240)]

OUTAGE_SECONDS = 60
STALE_AFTER = 20  # seconds: availability older than this is not routed on


async def talk(carrier, bench, leg, seconds: float) -> None:
    await carrier.wait_for(lambda: leg.answered, 10, "the caller to be connected")
    await asyncio.sleep(seconds)
    await carrier.hangup_caller(leg)
    await carrier.wait_for(lambda: leg.ended_at is not None, 10, "the caller to end")


async def test_database_stopped_for_60_s_then_pg_terminate_backend(
        pbx, carrier, postgres_cluster, postgres_database, tmp_path, monkeypatch):
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path))  # where the daemon keeps its journal
    bench = InProcessBench(pbx, carrier, tmp_path, postgres_database)
    database_up = True
    try:
        await bench.setup(directory(available=("alice", "bob", "carol"), ring_time=5, max_wait=30))
        repo = bench.daemon.repo
        repo.stale_after = STALE_AFTER
        repo.probe_every = 1.0
        for name in ("alice", "bob"):
            await carrier.set_phone(PHONES[name], "answer", delay=0.5)

        # A first call while all is well (and the daemon learns the team).
        await talk(carrier, bench, await carrier.call(TEAM_NUMBER, caller_id="+31200000001"), 1)
        await bench.wait_calls_finished(1)

        # Call A: Alice talks when the database goes away.
        leg_a = await carrier.call(TEAM_NUMBER, caller_id="+31200000002")
        await carrier.wait_for(lambda: leg_a.answered, 10, "call A to be connected")
        await bench.wait_bridged()
        a_talk_started = time.monotonic()

        await asyncio.to_thread(postgres_cluster.stop)
        database_up = False
        down_at = time.monotonic()
        async with asyncio.timeout(10):
            while not repo.degraded:
                await asyncio.sleep(0.1)
        noticed = time.monotonic() - down_at

        # Call B during the outage: routed from the last known availability (Alice is busy).
        leg_b = await carrier.call(TEAM_NUMBER, caller_id="+31200000003")
        await talk(carrier, bench, leg_b, 2)
        assert carrier.phone(PHONES["bob"]) and carrier.phone(PHONES["bob"])[-1].answered
        assert leg_a.ended_at is None  # call A talks on
        await carrier.hangup_caller(leg_a)
        a_talked = time.monotonic() - a_talk_started
        await carrier.wait_for(lambda: leg_a.ended_at is not None, 10, "call A to end")

        # Call C once the last availability is too old: the fallback, never silence.
        await asyncio.sleep(max(0.0, STALE_AFTER + 2 - (time.monotonic() - down_at)))
        leg_c = await carrier.call(TEAM_NUMBER, caller_id="+31200000004")
        await carrier.wait_for(lambda: leg_c.answered, 10, "call C to reach the fallback")
        await carrier.wait_for(lambda: leg_c.ended_at is not None, 20, "the fallback to end")
        journalled = len(repo.journal)
        assert journalled > 0 and repo.degraded

        await asyncio.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_at)))
        await asyncio.to_thread(postgres_cluster.start)
        database_up = True
        back_at = time.monotonic()
        async with asyncio.timeout(20):
            while repo.degraded:
                await asyncio.sleep(0.1)
        replay_seconds = time.monotonic() - back_at

        records = await bench.wait_calls_finished(4, timeout=10)
        assert [r.outcome for r in records] == ["answered", "answered", "answered", "fallback"]
        assert [r.answered_by for r in records[:3]] == ["alice", "alice", "bob"]
        assert records[2].attempts == [("bob", "answered")]
        assert abs(records[1].talk_seconds - a_talked) < 2.0
        assert all(r.node == "bench-node" for r in records)
        assert await bench.open_attempts() == []

        # Every connection of the daemon cut under a live call.
        leg_d = await carrier.call(TEAM_NUMBER, caller_id="+31200000005")
        await carrier.wait_for(lambda: leg_d.answered, 10, "call D to be connected")
        await bench.wait_bridged()
        database = postgres_database.rsplit("/", 1)[1]
        await asyncio.to_thread(postgres_cluster.sql, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                f"WHERE datname = '{database}' AND pid <> pg_backend_pid()")
        await asyncio.sleep(0.5)
        await carrier.hangup_caller(leg_d)
        records = await bench.wait_calls_finished(5, timeout=15)
        assert records[4].outcome == "answered" and records[4].attempts == [("alice", "answered")]
        async with asyncio.timeout(10):
            while repo.degraded:
                await asyncio.sleep(0.1)
        assert len(records) == 5  # nothing recorded twice
        await bench.assert_clean()
        print(f"database outage: noticed in {noticed:.2f} s; {journalled} writes journalled during "
              f"{OUTAGE_SECONDS} s; replayed {repo.replayed} entries {replay_seconds:.2f} s after the database "
              f"returned; call A talked {a_talked:.1f} s through it (recorded {records[1].talk_seconds:.1f} s); "
              f"pg_terminate_backend mid-call: record closed, {repo.replayed} entries replayed in total")
    finally:
        if not database_up:
            await asyncio.to_thread(postgres_cluster.start)
        await bench.stop()
