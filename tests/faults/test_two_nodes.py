"""Two nodes on one PostgreSQL: two PBXs, each with its own daemon; no member is ever rung by both at once."""

import asyncio
import itertools
from collections import Counter

import pytest

from tests.e2e.routing_bench import PHONES, TEAM_NUMBER, directory

from .fault_bench import InProcessBench as NodeBench

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.postgres, pytest.mark.timeout(240)]

CALLS_PER_NODE = 15
AT_ONCE_PER_NODE = 5


async def one_call(carrier, n: int, pbx_address: str | None) -> None:
    leg = await carrier.call(TEAM_NUMBER, caller_id=f"+3120{n:07d}", pbx_address=pbx_address)
    async with asyncio.timeout(40):
        while not leg.answered and leg.ended_at is None:
            await asyncio.sleep(0.05)
        if leg.ended_at is None:
            await asyncio.sleep(1.0)
            await carrier.hangup_caller(leg)
        await leg.ended.wait()


async def test_two_nodes_one_database_never_double_book(pbx, second_pbx, carrier, postgres_database, tmp_path):
    a = NodeBench(pbx, carrier, tmp_path, postgres_database, node="node-a")
    b = NodeBench(second_pbx, carrier, tmp_path, postgres_database, node="node-b")
    try:
        await a.setup(directory(strategy="ring_all", ring_time=5, max_wait=20,
                                team_members=("alice", "bob", "carol", "dave"),
                                available=("alice", "bob", "carol", "dave")))
        b.engine = a.engine
        await b.start()
        for name in ("alice", "bob", "carol", "dave"):
            await carrier.set_phone(PHONES[name], "answer", delay=1)

        gates = {None: asyncio.Semaphore(AT_ONCE_PER_NODE), second_pbx.sip_address: asyncio.Semaphore(AT_ONCE_PER_NODE)}

        async def bounded(n, address):
            async with gates[address]:
                await one_call(carrier, n, address)

        async with asyncio.TaskGroup() as tg:
            for n in range(CALLS_PER_NODE):
                tg.create_task(bounded(2 * n, None))
                tg.create_task(bounded(2 * n + 1, second_pbx.sip_address))

        records = await a.wait_calls_finished(2 * CALLS_PER_NODE, timeout=30)
        assert len(records) == 2 * CALLS_PER_NODE
        nodes = Counter(r.node for r in records)
        assert nodes == {"node-a": CALLS_PER_NODE, "node-b": CALLS_PER_NODE}
        outcomes = Counter(r.outcome for r in records)
        assert set(outcomes) <= {"answered", "no_one_available", "timed_out"}
        assert await a.open_attempts() == []
        # No phone was ever rung by both nodes (or twice by one) at once.
        overlaps = {}
        for name in ("alice", "bob", "carol", "dave"):
            spans = sorted((c.rang_at, c.ended_at) for c in carrier.phone(PHONES[name]))
            bad = [(x, y) for x, y in itertools.pairwise(spans) if y[0] < x[1] - 0.2]
            if bad:
                overlaps[name] = bad
        assert overlaps == {}
        await a.assert_clean()
        assert await b.daemon.ari.list_channels() == []
        legs = sum(len(carrier.phone(PHONES[n])) for n in ("alice", "bob", "carol", "dave"))
        print(f"two nodes: {2 * CALLS_PER_NODE} calls ({AT_ONCE_PER_NODE} at a time per node), "
              f"records per node {dict(nodes)}, outcomes {dict(outcomes)}, {legs} member legs, "
              "0 members rung by both nodes at once")
    finally:
        b.engine = None  # shared with a: disposed once
        await b.stop()
        await a.stop()
