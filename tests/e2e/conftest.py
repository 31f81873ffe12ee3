"""End-to-end fixtures: a teamfoned daemon against the bench's PBX and carrier."""

import pytest_asyncio

from .routing_bench import RoutingBench


@pytest_asyncio.fixture(loop_scope="session")
async def routing(pbx, carrier, tmp_path):
    bench = RoutingBench(pbx, carrier, tmp_path)
    try:
        yield bench
    finally:
        await bench.stop()
