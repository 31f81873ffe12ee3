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


@pytest_asyncio.fixture(loop_scope="session", params=["sqlite", "postgresql"])
async def routing_each_db(request, pbx, carrier, tmp_path, postgres_database):
    """The same bench, once with the embedded SQLite default and once on PostgreSQL."""
    db_url = postgres_database if request.param == "postgresql" else None
    bench = RoutingBench(pbx, carrier, tmp_path, db_url=db_url)
    try:
        yield bench
    finally:
        await bench.stop()
