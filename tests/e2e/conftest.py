"""End-to-end fixtures: a teamfoned daemon against the bench's PBX and carrier."""

import pytest_asyncio

from .routing_bench import RoutingBench


@pytest_asyncio.fixture(loop_scope="session")
async def routing(pbx, carrier, tmp_path, migrated_sqlite_url):
    # Already migrated (a copy of the session's): the bench's own upgrade finds nothing to do.
    bench = RoutingBench(pbx, carrier, tmp_path, db_url=migrated_sqlite_url)
    try:
        yield bench
    finally:
        await bench.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def routing_each_db(pbx, carrier, tmp_path, migrated_db_url):
    """The same bench, once with the embedded SQLite default and once on PostgreSQL (the
    parameters of `db_url`)."""
    bench = RoutingBench(pbx, carrier, tmp_path, db_url=migrated_db_url)
    try:
        yield bench
    finally:
        await bench.stop()
