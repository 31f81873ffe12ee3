"""Load: 200 real calls, 20 at a time, into a team of 10 mixed phones: correct records, no double booking, memory flat."""

import asyncio
import itertools
import time
from collections import defaultdict

import pytest

from tests.e2e.routing_bench import TEAM_NUMBER

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.timeout(420)]

CALLS = 200
CONCURRENCY = 20
WARM_UP = 20
MODES = ["answer"] * 4 + ["never"] * 3 + ["busy"] * 3
PHONES = [f"+316100000{n:02d}" for n in range(10, 20)]
OUTCOMES = {"answered", "no_one_available", "timed_out"}


def team_directory():
    members = [{"name": f"m{i}", "phone": p, "available": True} for i, p in enumerate(PHONES)]
    team = {"name": "support", "strategy": "round_robin", "ring_time": 5, "max_wait": 20, "wrap_up": 0,
            "confirm_calls": False, "numbers": [TEAM_NUMBER],
            "members": [{"name": f"m{i}", "priority": i + 1} for i in range(len(PHONES))]}
    return {"tenants": [{"name": "acme", "members": members, "teams": [team]}]}


async def one_call(carrier, n: int) -> None:
    leg = await carrier.call(TEAM_NUMBER, caller_id=f"+3120{n:07d}")
    async with asyncio.timeout(40):
        while not leg.answered and leg.ended_at is None:
            await asyncio.sleep(0.05)
        if leg.ended_at is None:
            await asyncio.sleep(1.0)  # talk (to a member, or to the fallback announcement)
            await carrier.hangup_caller(leg)
        await leg.ended.wait()


async def run_calls(carrier, first: int, count: int) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def bounded(n):
        async with gate:
            await one_call(carrier, n)

    async with asyncio.TaskGroup() as tg:
        for n in range(first, first + count):
            tg.create_task(bounded(n))


def overlaps(intervals, tolerance=0.0):
    intervals = sorted(intervals)
    return [(a, b) for a, b in itertools.pairwise(intervals) if b[0] < a[1] - tolerance]


async def test_200_calls_20_at_a_time(crashable, carrier):
    await crashable.setup(team_directory())
    for phone, mode in zip(PHONES, MODES, strict=True):
        await carrier.set_phone(phone, mode, delay=0.5)

    await run_calls(carrier, 0, WARM_UP)
    await crashable.wait_calls_finished(WARM_UP, timeout=30)
    await asyncio.sleep(2)
    baseline = crashable.process.rss_kb()

    started = time.monotonic()
    await run_calls(carrier, WARM_UP, CALLS - WARM_UP)
    records = await crashable.wait_calls_finished(CALLS, timeout=60)
    elapsed = time.monotonic() - started
    await crashable.assert_clean(timeout=20)
    await asyncio.sleep(3)
    after = crashable.process.rss_kb()

    assert len(records) == CALLS
    assert {r.outcome for r in records} <= OUTCOMES, {r.outcome for r in records}
    by_outcome = defaultdict(int)
    for r in records:
        by_outcome[r.outcome] += 1
        assert all(result for _, result in r.attempts), r  # every attempt closed with a result
        if r.outcome == "answered":
            assert r.answered_by is not None and r.talk_seconds is not None
            assert sum(1 for _, result in r.attempts if result == "answered") == 1
    # Zero double bookings. The database refuses a second open attempt per member (a partial
    # unique index), but its timestamps are the daemon's clock readings taken before each write,
    # so recorded intervals of a member may touch by a few milliseconds when writes queue up;
    # what counts is what the phones saw.
    phone_overlaps = {p: overlaps([(c.rang_at, c.ended_at) for c in carrier.phone(p)], tolerance=0.2)
                      for p in PHONES}
    assert all(not v for v in phone_overlaps.values()), phone_overlaps
    legs = sum(len(carrier.phone(p)) for p in PHONES)
    print(f"load: {CALLS} calls ({CONCURRENCY} at a time) in {elapsed:.1f} s after a {WARM_UP}-call warm-up; "
          f"outcomes {dict(by_outcome)}; {legs} member legs; 0 double bookings; "
          f"daemon RSS {baseline / 1024:.1f} MiB after warm-up, {after / 1024:.1f} MiB after the run")
    assert after <= baseline * 1.10 + 4096, (baseline, after)
