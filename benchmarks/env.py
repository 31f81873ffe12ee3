"""The bench for `make bench`: a PostgreSQL cluster, the PBX and the carrier, the daemon as its own process.

Reuses the test bench's building blocks (tests/bench) without pytest: the
PBX runs asterisk-config/ as shipped plus the bench's site files and the
baseline dialplan of benchmarks/dialplan.py.
"""

from __future__ import annotations

import asyncio
import copy
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import yaml

from benchmarks import dialplan
from teamfoned.config import RoutingSettings
from teamfoned.directory import import_directory
from teamfoned.domain.members import PhonePolicy
from teamfoned.store.engine import create_engine, create_sessionmaker
from teamfoned.store.migrate import upgrade
from tests.bench.asterisk_instance import AsteriskInstallation, AsteriskInstance
from tests.bench.postgres import _Cluster, _find_bindir, _free_port
from tests.bench.topology import Topology, carrier_files, pbx_files

REPO = Path(__file__).resolve().parents[1]
MEMBERS = 500  # one member per team, per Dial() extension and per queue


def directory(members: int = MEMBERS) -> dict:
    """`members` teams of one member each (linear, no wrap-up), plus the propagation team."""
    people = [{"name": f"m{i}", "phone": dialplan.member_phone(i), "available": True}
              for i in range(members)]
    teams = [{
        "name": f"t{i}", "strategy": "linear", "ring_time": 20, "max_wait": 60, "wrap_up": 0,
        "confirm_calls": False, "numbers": [dialplan.number(dialplan.TEAMFONED_PREFIX, i)],
        "members": [{"name": f"m{i}", "priority": 1}],
    } for i in range(members)]
    # Propagation: two members, the first one toggled over HTTP.
    people += [{"name": "prop-a", "phone": dialplan.member_phone(members), "available": False},
               {"name": "prop-b", "phone": dialplan.member_phone(members + 1), "available": True}]
    teams.append({
        "name": "prop", "strategy": "linear", "ring_time": 20, "max_wait": 60, "wrap_up": 0,
        "confirm_calls": False, "numbers": [dialplan.number(dialplan.TEAMFONED_PREFIX, 9000)],
        "members": [{"name": "prop-a", "priority": 1}, {"name": "prop-b", "priority": 2}],
    })
    # The waiting line's hand-off: one member, answering; a second caller waits for her.
    people.append({"name": "handoff", "phone": dialplan.handoff_phone(members), "available": True})
    teams.append({
        "name": "handoff", "strategy": "linear", "ring_time": 20, "max_wait": 60, "wrap_up": 0,
        "confirm_calls": False, "numbers": [dialplan.number(dialplan.TEAMFONED_PREFIX, dialplan.HANDOFF)],
        "members": [{"name": "handoff", "priority": 1}],
    })
    return {"tenants": [{"name": "bench", "members": people, "teams": teams}]}


class Postgres:
    def __init__(self) -> None:
        bindir = _find_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found (run `make provision`)")
        self.root = Path(tempfile.mkdtemp(prefix="teamfoned-bench-pg-"))
        self.cluster = _Cluster(bindir, self.root, _free_port())
        self.started = False

    def start(self) -> None:
        self.cluster.prepare()
        self.cluster.initdb()
        # The round-trip count reads the server's own statement statistics (utility statements
        # too: BEGIN, COMMIT and the pool's pre-ping are round trips as well).
        with open(self.cluster.data / "postgresql.conf", "a") as conf:
            conf.write("shared_preload_libraries = 'pg_stat_statements'\n"
                       "pg_stat_statements.track = top\n"
                       "pg_stat_statements.track_utility = on\n")
        self.started = True
        self.cluster.start()

    def database(self, name: str) -> str:
        self.cluster.sql(f"CREATE DATABASE {name}")
        return self.cluster.url(name)

    def drop(self, name: str) -> None:
        self.cluster.sql(f"DROP DATABASE IF EXISTS {name}")

    def stop(self) -> None:
        if self.started:
            self.cluster.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _port_busy(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


class Telephony:
    """The PBX (shipped config + bench site files) and the carrier (AMI events time-stamped)."""

    def __init__(self, members: int = MEMBERS) -> None:
        installation = AsteriskInstallation.find()
        if installation is None:
            raise RuntimeError("no Asterisk 20+ and no provisioned root (run `make provision`)")
        self.installation = installation
        self.topology = Topology()
        cfiles = carrier_files(self.topology)
        # Asterisk's own time stamp on every AMI event: latencies measured on the carrier's clock.
        cfiles["manager.conf"] = cfiles["manager.conf"].replace(
            "[general]\n", "[general]\ntimestampevents = yes\n", 1)
        # 500 concurrent calls need 1,000 channels on each side, two RTP ports each: wider
        # ranges than the test bench's (the files are the bench's, not the shipped config).
        cfiles["rtp.conf"] = "[general]\nrtpstart = 30000\nrtpend = 39999\n"
        pfiles = pbx_files(self.topology, dialplan.site_files(members))
        pfiles["rtp.conf"] = "[general]\nrtpstart = 20000\nrtpend = 29999\n"
        # The hand-off phase's member phone as an endpoint of its own (dialplan.handoff_endpoint).
        pfiles["pjsip_site.conf"] += dialplan.handoff_endpoint(
            members, self.topology.carrier_host, self.topology.carrier_sip_port)
        self.carrier = AsteriskInstance(installation, "carrier", cfiles)
        self.pbx = AsteriskInstance(installation, "pbx", pfiles)

    def start(self) -> None:
        t = self.topology
        deadline = time.monotonic() + 90
        while _port_busy(t.pbx_host, t.ari_port):
            if time.monotonic() > deadline:
                raise RuntimeError(f"ARI port {t.ari_port} is held by another PBX: stop it first")
            time.sleep(1)
        self.carrier.start()
        self.pbx.start()
        out = self.pbx.cli("module show like app_queue")
        if "app_queue" not in out:
            raise RuntimeError(f"app_queue did not load on the PBX:\n{out}")

    def stop(self) -> None:
        for instance in (self.pbx, self.carrier):
            instance.remove()


async def seed(url: str, doc: dict) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
        async with create_sessionmaker(engine)() as session, session.begin():
            await import_directory(session, copy.deepcopy(doc), phones=PhonePolicy(("NL",)),
                                   defaults=RoutingSettings())
    finally:
        await engine.dispose()


class DaemonProcess:
    """`teamfoned run` as its own process, as deployed; logs go to a file."""

    def __init__(self, topology: Topology, db_url: str, workdir: Path) -> None:
        self.topology = topology
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "teamfoned.yaml"
        self.config.write_text(yaml.safe_dump({
            "node": "bench",
            "ari": {"url": topology.ari_url, "username": topology.ari_user,
                    "password": topology.ari_password, "app": topology.app},
            # Its journal in its own folder, not the machine's state directory.
            "database": {"url": db_url, "journal_path": str(workdir / "journal.jsonl")},
            "telephony": {"trunk_dial_template": "PJSIP/{number}@trunk", "allowed_countries": ["NL"]},
            "logging": {"level": "info", "format": "json"},
        }))
        os.chmod(self.config, 0o600)
        self.log_path = workdir / "teamfoned.log"
        self.process: subprocess.Popen | None = None

    async def start(self) -> None:
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "teamfoned.cli", "--config", str(self.config), "run"],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
        )
        t = self.topology
        auth = aiohttp.BasicAuth(t.ari_user, t.ari_password)
        deadline = time.monotonic() + 30
        async with aiohttp.ClientSession(auth=auth) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"teamfoned exited with {self.process.returncode}: see {self.log_path}")
                try:
                    async with http.get(f"{t.ari_url}/ari/applications") as resp:
                        apps = await resp.json()
                    if any(a.get("name") == t.app for a in apps):
                        return
                except (aiohttp.ClientError, ValueError):
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError("teamfoned did not connect to ARI within 30 s")

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if getattr(self, "_log", None):
            self._log.close()
