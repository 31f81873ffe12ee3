"""A teamfoned daemon on the bench: a fresh database with a directory, the daemon in this event loop.

The daemon is the real one (teamfoned.app.Daemon) with the real ARI client,
store and routing core; only the database is per test. Helpers read the
call records back and check that nothing was left behind.
"""

from __future__ import annotations

import asyncio
import copy
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select, update

from teamfoned.app import Daemon
from teamfoned.cli import lookups
from teamfoned.config import RoutingSettings, settings_from_dict
from teamfoned.directory import import_directory
from teamfoned.domain.members import PhonePolicy
from teamfoned.store import members_repo
from teamfoned.store.engine import create_engine, create_sessionmaker
from teamfoned.store.migrate import upgrade
from teamfoned.store.tables import attempts, availability, calls, members, teams
from tests.bench.media import BENCH_MOH_CLASS
from tests.bench.topology import AGI_PORT

TEAM_NUMBER = "3120555100"

PHONES = {
    "alice": "+31610000001",
    "bob": "+31610000002",
    "carol": "+31610000003",
    "dave": "+31610000004",
}


def directory(*, strategy="linear", ring_time=5, max_wait=40, wrap_up=0, team_members=("alice", "bob", "carol"),
              available=("alice", "bob", "carol"), fallback=None, extra_teams=(), confirm_calls=False):
    team = {
        "name": "support", "strategy": strategy, "ring_time": ring_time, "max_wait": max_wait,
        "wrap_up": wrap_up, "confirm_calls": confirm_calls, "numbers": [TEAM_NUMBER],
        "members": [{"name": n, "priority": i + 1} for i, n in enumerate(team_members)],
    }
    if fallback:
        team["fallback"] = fallback
    return {"tenants": [{
        "name": "acme",
        "members": [{"name": n, "phone": p, "available": n in available} for n, p in PHONES.items()],
        "teams": [team, *extra_teams],
    }]}


@dataclass
class CallRecord:
    id: uuid.UUID
    outcome: str | None
    answered_by: str | None
    wait_seconds: float | None
    talk_seconds: float | None
    started_at: datetime
    ended_at: datetime | None
    node: str
    attempts: list[tuple[str | None, str | None]] = field(default_factory=list)  # (member, result)


class RoutingBench:
    def __init__(self, pbx, carrier, tmp_path: Path, db_url: str | None = None):
        self.pbx = pbx
        self.carrier = carrier
        self.db_url = db_url or f"sqlite+aiosqlite:///{tmp_path}/teamfoned.db"
        self.tmp_path = tmp_path
        self.daemon: Daemon | None = None
        self._task: asyncio.Task | None = None
        self.engine = None
        self.tenant_id: uuid.UUID | None = None
        self.http_url: str | None = None
        # FastAGI mode: the daemon also serves the shipped AGI dialplan (extensions_agi.conf).
        self.agi = False
        self.agi_claim_margin = 2.0
        self.extra_settings: dict = {}

    def settings(self, **overrides):
        telephony = {"trunk_dial_template": "PJSIP/{number}@trunk", "allowed_countries": ["NL"],
                     "confirm_time": 4,
                     # The bench PBX's own class (tests/bench/media.py) beside the shipped one.
                     "moh_classes": ["default", BENCH_MOH_CLASS]}
        telephony.update(overrides.pop("telephony", {}))
        raw = {
            "node": "bench-node",
            "ari": {"url": self.pbx.ari_url, "username": self.pbx.ari_user,
                    "password": self.pbx.ari_password, "app": self.pbx.app},
            "database": {"url": self.db_url},
            "telephony": telephony,
            "logging": {"level": "debug"},
            # The tests' webhook receivers listen on loopback: only the sysadmin can allow that.
            "webhooks": {"allow_destinations": ["127.0.0.1/32"]},
        }
        if self.agi:
            raw["agi"] = {"listen": self.pbx.topology.pbx_host, "port": AGI_PORT,
                          "claim_margin": self.agi_claim_margin}
        raw.update(self.extra_settings)
        raw.update(overrides)
        # The test's own journal: on PostgreSQL the default is the machine's state directory,
        # one file per node name, which every bench on this machine would share.
        raw["database"] = {"journal_path": str(self.tmp_path / f"journal-{raw['node']}.jsonl"),
                           **raw["database"]}
        return settings_from_dict(raw)

    async def setup(self, directory_doc: dict, **daemon_kwargs) -> None:
        self.engine = create_engine(self.db_url)
        await upgrade(self.engine)
        await self.import_directory(directory_doc)
        await self.start(**daemon_kwargs)

    async def import_directory(self, doc: dict) -> None:
        async with create_sessionmaker(self.engine)() as session, session.begin():
            await import_directory(session, copy.deepcopy(doc), phones=PhonePolicy(("NL",)),
                                   defaults=RoutingSettings())
            self.tenant_id = await lookups.tenant_id(session, "acme")

    async def start(self, **daemon_kwargs) -> None:
        # A short drain: a test that failed mid-call should not hold the teardown for long.
        daemon_kwargs.setdefault("drain_seconds", 3.0)
        # The HTTP module runs inside the daemon, as in production, on a free loopback port.
        listener = socket.create_server(("127.0.0.1", 0))
        self.http_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        daemon_kwargs.setdefault("http_sockets", [listener])
        self.daemon = Daemon(self.settings(), **daemon_kwargs)
        self._task = asyncio.create_task(self.daemon.run())
        started = asyncio.create_task(self.daemon.started.wait())
        done, _ = await asyncio.wait({started, self._task}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            started.cancel()
            self._task.result()  # raises what stopped the daemon
        if started not in done:
            started.cancel()
            raise TimeoutError("daemon did not connect to ARI within 15 s")

    async def stop(self) -> None:
        if self.daemon is not None and self._task is not None:
            self.daemon.stop()
            try:
                await asyncio.wait_for(self._task, 30)
            finally:
                self.daemon = None
                self._task = None
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    async def wait_bridged(self, timeout: float = 10.0) -> dict:
        """Wait until a bridge of ours holds two channels (caller and member are talking)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for bridge in await self.daemon.ari.list_bridges():
                if len(bridge["channels"]) == 2:
                    return bridge
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("no bridge with caller and member")
            await asyncio.sleep(0.05)

    async def update_team(self, **values) -> None:
        """Change the support team's settings in place (what the admin tools write)."""
        async with create_sessionmaker(self.engine)() as session, session.begin():
            await session.execute(update(teams).where(teams.c.name == "support").values(**values))

    async def add_team_rows(self, table, rows: list[dict]) -> None:
        async with create_sessionmaker(self.engine)() as session, session.begin():
            team = (await session.execute(select(teams.c.id).where(teams.c.name == "support"))).scalar_one()
            for row in rows:
                await session.execute(insert(table).values(tenant_id=self.tenant_id, team_id=team, **row))

    async def availability_of(self, name: str):
        async with create_sessionmaker(self.engine)() as session:
            return (await session.execute(
                select(availability).join(members, members.c.id == availability.c.member_id)
                .where(members.c.name == name))).first()

    async def set_available(self, name: str, available: bool, until: datetime | None = None) -> None:
        async with create_sessionmaker(self.engine)() as session, session.begin():
            member = await lookups.member_id(session, self.tenant_id, name)
            await members_repo.set_availability(session, self.tenant_id, member, available, until,
                                                now=datetime.now(UTC))

    async def member_names(self) -> dict[uuid.UUID, str]:
        async with create_sessionmaker(self.engine)() as session:
            rows = (await session.execute(select(members.c.id, members.c.name))).all()
        return {r[0]: r[1] for r in rows}

    async def calls(self) -> list[CallRecord]:
        """Every call record, oldest first, with its attempts in order."""
        names = await self.member_names()
        async with create_sessionmaker(self.engine)() as session:
            call_rows = (await session.execute(select(calls).order_by(calls.c.started_at))).all()
            attempt_rows = (await session.execute(select(attempts).order_by(attempts.c.started_at))).all()
        records = []
        for c in call_rows:
            record = CallRecord(c.id, c.outcome, names.get(c.answered_by), c.wait_seconds, c.talk_seconds,
                                c.started_at, c.ended_at, c.node)
            record.attempts = [(names.get(a.member_id), a.result) for a in attempt_rows if a.call_id == c.id]
            records.append(record)
        return records

    async def wait_calls_finished(self, count: int, timeout: float = 30.0) -> list[CallRecord]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            records = await self.calls()
            if len(records) >= count and all(r.outcome for r in records):
                return records
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"calls not finished in {timeout} s: {records}")
            await asyncio.sleep(0.1)

    async def open_attempts(self) -> list:
        async with create_sessionmaker(self.engine)() as session:
            return (await session.execute(select(attempts).where(attempts.c.ended_at.is_(None)))).all()

    async def assert_clean(self, timeout: float = 10.0) -> None:
        """Nothing of ours is left: no channel or bridge in the PBX, no member busy, no open record."""
        ari = self.daemon.ari
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            channels = await ari.list_channels()
            bridges = await ari.list_bridges()
            open_attempts = await self.open_attempts()
            open_calls = [c for c in await self.calls() if c.outcome is None]
            if not (channels or bridges or open_attempts or open_calls):
                break
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(
                    f"left behind: channels={[c['name'] for c in channels]} bridges={[b['id'] for b in bridges]} "
                    f"open attempts={open_attempts} open calls={open_calls}"
                )
            await asyncio.sleep(0.2)
        await self.carrier.wait_idle(timeout)
