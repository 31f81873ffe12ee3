"""The waiting line under faults: the daemon killed while callers wait, the database away while callers wait."""

import asyncio

import pytest

from tests.e2e.routing_bench import PHONES, TEAM_NUMBER, directory

from .fault_bench import InProcessBench

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.timeout(150)]


async def test_daemon_killed_while_a_caller_waits_the_caller_reaches_the_fallback(crashable, carrier):
    await crashable.setup(directory(max_wait=60, team_members=("alice",), available=("alice",)))
    await carrier.set_phone(PHONES["alice"], "answer", delay=0.3)
    talking = await carrier.call(TEAM_NUMBER, caller_id="+31201234501")
    await carrier.wait_for(lambda: talking.answered, 10, "the first caller to be connected")
    waiting = await carrier.call(TEAM_NUMBER, caller_id="+31201234502")
    await carrier.wait_for(lambda: waiting.ringing_at is not None, 10, "the second caller to wait")
    await crashable.process.wait_event("caller_waiting")  # in the line, not just ringing
    crashable.process.kill()
    await asyncio.sleep(1)
    assert waiting.ended_at is None and not waiting.answered  # Asterisk holds them meanwhile

    await crashable.process.start_ready()
    # The restarted daemon sends the waiting caller to the fallback (its announcement answers)
    # and adopts the talking pair.
    await carrier.wait_for(lambda: waiting.answered, 15, "the waiting caller to reach the fallback")
    await asyncio.wait_for(waiting.ended.wait(), 20)
    assert talking.ended_at is None
    assert len(carrier.phone(PHONES["alice"])) == 1  # never rung for the waiting caller
    await carrier.hangup_caller(talking)
    records = await crashable.wait_calls_finished(2, timeout=15)
    assert sorted(r.outcome for r in records) == ["answered", "fallback"]
    assert await crashable.open_attempts() == []
    await crashable.assert_clean()


@pytest.mark.postgres
async def test_database_away_while_a_caller_waits_they_are_never_left_in_silence(
        pbx, carrier, postgres_cluster, postgres_database, tmp_path, monkeypatch):
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path))  # where the daemon keeps its journal
    bench = InProcessBench(pbx, carrier, tmp_path, postgres_database)
    database_up = True
    try:
        await bench.setup(directory(max_wait=10, team_members=("alice",), available=("alice",)))
        repo = bench.daemon.repo
        repo.probe_every = 1.0
        await carrier.set_phone(PHONES["alice"], "answer", delay=0.3)
        talking = await carrier.call(TEAM_NUMBER, caller_id="+31201234501")
        await carrier.wait_for(lambda: talking.answered, 10, "the first caller to be connected")
        waiting = await carrier.call(TEAM_NUMBER, caller_id="+31201234502")
        async with asyncio.timeout(10):
            while bench.daemon.line_signals.waiting_here < 1:  # in the line, not just ringing
                await asyncio.sleep(0.05)

        await asyncio.to_thread(postgres_cluster.stop)
        database_up = False
        async with asyncio.timeout(10):
            while not repo.degraded:
                await asyncio.sleep(0.1)
        # The line cannot be read: the caller keeps their wait (not dropped by the outage) ...
        await asyncio.sleep(2)
        assert waiting.ended_at is None and not waiting.answered
        # ... until the max wait sends them to the fallback, which answers: never silence.
        await carrier.wait_for(lambda: waiting.answered, 15, "the waiting caller to reach the fallback")
        await asyncio.wait_for(waiting.ended.wait(), 20)
        assert len(carrier.phone(PHONES["alice"])) == 1
        assert talking.ended_at is None  # the talking pair talks on through the outage
        await carrier.hangup_caller(talking)

        await asyncio.to_thread(postgres_cluster.start)
        database_up = True
        async with asyncio.timeout(20):
            while repo.degraded:
                await asyncio.sleep(0.1)
        records = await bench.wait_calls_finished(2, timeout=15)
        assert [r.outcome for r in records] == ["answered", "timed_out"]
        assert await bench.open_attempts() == []
        await bench.assert_clean()
    finally:
        if not database_up:
            await asyncio.to_thread(postgres_cluster.start)
        await bench.stop()
