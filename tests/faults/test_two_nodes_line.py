"""Two nodes, one PostgreSQL, one waiting line: callers arriving alternately on both nodes are answered in arrival order."""

import asyncio

import pytest

from tests.e2e.routing_bench import PHONES, TEAM_NUMBER, directory
from tests.e2e.test_waiting_line import callers_answered_in_order, overlapping_rings

from .fault_bench import InProcessBench as NodeBench

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.postgres, pytest.mark.timeout(120)]

TWO = ("alice", "bob")
CALLERS = 6


async def test_alternate_arrivals_on_two_nodes_are_answered_in_arrival_order(
        pbx, second_pbx, carrier, postgres_database, tmp_path):
    a = NodeBench(pbx, carrier, tmp_path, postgres_database, node="node-a")
    b = NodeBench(second_pbx, carrier, tmp_path, postgres_database, node="node-b")
    try:
        await a.setup(directory(strategy="linear", ring_time=5, max_wait=30,
                                team_members=TWO, available=TWO))
        b.engine = a.engine
        await b.start()
        for name in TWO:
            # Each member talks for 2 s and hangs up; the next caller in line is theirs.
            await carrier.set_phone(PHONES[name], "hangup", delay=0.3, after=2)
        legs = []
        for n in range(CALLERS):
            address = None if n % 2 == 0 else second_pbx.sip_address
            legs.append(await carrier.call(TEAM_NUMBER, caller_id=f"+3120123450{n}",
                                           pbx_address=address))
            await asyncio.sleep(0.5)
        for leg in legs:
            await asyncio.wait_for(leg.ended.wait(), 40)
        records = await a.wait_calls_finished(CALLERS)
        assert sorted(r.node for r in records) == ["node-a"] * 3 + ["node-b"] * 3
        assert [r.outcome for r in records] == ["answered"] * CALLERS
        assert all(leg.answered for leg in legs)
        # The order of answers is the order of arrival, whichever node held the caller.
        assert callers_answered_in_order(legs)
        assert overlapping_rings(carrier, TWO) == {}
        assert sum(len(carrier.phone(PHONES[n])) for n in TWO) == CALLERS
        await a.assert_clean()
        assert await b.daemon.ari.list_channels() == []
    finally:
        b.engine = None  # shared with a: disposed once
        await b.stop()
        await a.stop()
