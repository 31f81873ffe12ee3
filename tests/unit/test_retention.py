"""Retention: a call is purged once it started more than the tenant's retention days ago, to the day, by the daemon and the CLI."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from sqlalchemy import func, insert, select

from teamfoned.cli import main as cli_main
from teamfoned.housekeeping import Housekeeping
from teamfoned.store.engine import create_engine, create_sessionmaker
from teamfoned.store.migrate import upgrade
from teamfoned.store.retention import purge_expired
from teamfoned.store.tables import attempts, calls, tenants

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path}/retention.db"
    engine = create_engine(url)
    await upgrade(engine)
    yield url, create_sessionmaker(engine)
    await engine.dispose()


async def add_tenant(sessions, name: str, days: int) -> uuid.UUID:
    tenant = uuid.uuid4()
    async with sessions() as s, s.begin():
        await s.execute(insert(tenants).values(id=tenant, name=name, retention_days=days, created_at=NOW))
    return tenant


async def add_call(sessions, tenant: uuid.UUID, started: datetime) -> uuid.UUID:
    call = uuid.uuid4()
    async with sessions() as s, s.begin():
        await s.execute(insert(calls).values(id=call, tenant_id=tenant, node="n", started_at=started,
                                             ended_at=started, outcome="answered"))
        await s.execute(insert(attempts).values(id=uuid.uuid4(), call_id=call, tenant_id=tenant, node="n",
                                                started_at=started, ended_at=started, result="answered"))
    return call


async def remaining(sessions) -> set[uuid.UUID]:
    async with sessions() as s:
        return set((await s.execute(select(calls.c.id))).scalars())


async def test_purge_is_exact_to_the_day_per_tenant(store):
    _, sessions = store
    acme = await add_tenant(sessions, "acme", 30)
    globex = await add_tenant(sessions, "globex", 90)
    expired = await add_call(sessions, acme, NOW - timedelta(days=30, seconds=1))
    kept = await add_call(sessions, acme, NOW - timedelta(days=30) + timedelta(seconds=1))
    other = await add_call(sessions, globex, NOW - timedelta(days=31))
    async with sessions() as s, s.begin():
        report = await purge_expired(s, now=NOW)
    assert [(p.tenant, p.calls, p.attempts) for p in report] == [("acme", 1, 1), ("globex", 0, 0)]
    assert await remaining(sessions) == {kept, other}
    assert expired not in await remaining(sessions)
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(attempts)) == 2


async def test_the_daemon_purges_daily_with_its_clock(store):
    _, sessions = store
    acme = await add_tenant(sessions, "acme", 7)
    call = await add_call(sessions, acme, NOW - timedelta(days=6, hours=12))
    clock = [NOW]
    chores = Housekeeping(sessions, clock=lambda: clock[0], every_seconds=0.05)
    until = asyncio.Event()
    async with asyncio.TaskGroup() as tg:
        tg.create_task(chores.run(until))
        await asyncio.sleep(0.02)
        assert await remaining(sessions) == {call}  # six and a half days old: kept
        clock[0] = NOW + timedelta(days=1)  # the next daily run: seven and a half days old
        await asyncio.sleep(0.1)
        until.set()
    assert await remaining(sessions) == set()
    assert chores.last_purge == NOW + timedelta(days=1)


async def test_teamfoned_purge_command(store, tmp_path, capsys):
    url, sessions = store
    acme = await add_tenant(sessions, "acme", 30)
    old = await add_call(sessions, acme, datetime.now(UTC) - timedelta(days=45))
    recent = await add_call(sessions, acme, datetime.now(UTC) - timedelta(days=5))
    config = tmp_path / "teamfoned.yaml"
    config.write_text(yaml.safe_dump({"ari": {"password": "x"}, "database": {"url": url}}))
    assert await asyncio.to_thread(cli_main, ["--config", str(config), "purge"]) == 0
    assert "acme: 1 call(s) and 1 attempt(s) older than 30 days deleted" in capsys.readouterr().out
    assert await remaining(sessions) == {recent}
    assert old not in await remaining(sessions)
