"""Two nodes on one PostgreSQL: a directory change written beside node A is used by node B's very next call (LISTEN/NOTIFY)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete

from teamfoned.store.tables import team_holidays
from tests.e2e.routing_bench import PHONES, TEAM_NUMBER, directory

from .fault_bench import InProcessBench as NodeBench

pytestmark = [pytest.mark.e2e, pytest.mark.faults, pytest.mark.postgres, pytest.mark.timeout(120)]


async def call_on(node: NodeBench, carrier, pbx_address: str, expected: int) -> tuple[str, str | None]:
    leg = await carrier.call(TEAM_NUMBER, pbx_address=pbx_address)
    await carrier.wait_for(lambda: leg.answered, 10, "the caller to be connected")
    await node.wait_bridged()
    await carrier.hangup_caller(leg)
    record = (await node.wait_calls_finished(expected))[-1]
    assert record.node == node.node
    return record.outcome, record.answered_by


async def test_a_change_on_one_node_is_used_by_the_next_call_on_the_other(
        pbx, second_pbx, carrier, postgres_database, tmp_path):
    a = NodeBench(pbx, carrier, tmp_path, postgres_database, node="node-a")
    b = NodeBench(second_pbx, carrier, tmp_path, postgres_database, node="node-b")
    try:
        await a.setup(directory(team_members=("alice", "bob"), available=("alice", "bob")))
        b.engine = a.engine
        await b.start()
        for name in ("alice", "dave"):
            await carrier.set_phone(PHONES[name], "answer", delay=0.2)
        assert await call_on(b, carrier, second_pbx.sip_address, 1) == ("answered", "alice")

        # What node A's admin API writes (one transaction each): no wait before the next call.
        await a.update_team(closed_kind="number", closed_target=PHONES["dave"])
        await a.add_team_rows(team_holidays, [{"day": datetime.now(UTC).date(), "name": "closed"}])
        assert (await call_on(b, carrier, second_pbx.sip_address, 2))[0] == "closed"
        assert len(carrier.phone(PHONES["dave"])) == 1

        async with a.engine.begin() as conn:
            await conn.execute(delete(team_holidays))
        assert await call_on(b, carrier, second_pbx.sip_address, 3) == ("answered", "alice")
        # And node A, whose own writes notify it just the same.
        assert await call_on(a, carrier, None, 4) == ("answered", "alice")
        assert len(carrier.phone(PHONES["alice"])) == 3
        await a.assert_clean()
        assert await b.daemon.ari.list_channels() == []
    finally:
        b.engine = None  # shared with a: disposed once
        await b.stop()
        await a.stop()
