"""Fault tests: the real bench (PBX, carrier, PostgreSQL) with a daemon that gets cut off, killed or starved.

Every test is bounded by a timeout and leaves the session's PBX running and the
carrier idle for the tests after it.
"""

import pytest_asyncio

from tests.e2e.routing_bench import RoutingBench

from .fault_bench import FaultBench


@pytest_asyncio.fixture(loop_scope="session")
async def crashable(pbx, carrier, tmp_path):
    """A daemon in a child process (so it can be SIGKILLed), on a SQLite file."""
    bench = FaultBench(pbx, carrier, tmp_path)
    try:
        yield bench
    finally:
        await bench.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def in_process(pbx, carrier, tmp_path):
    """A daemon in this event loop (its ARI client and dispatcher can be looked at directly)."""
    bench = RoutingBench(pbx, carrier, tmp_path)
    try:
        yield bench
    finally:
        await bench.stop()
