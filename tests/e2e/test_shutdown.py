"""`teamfoned run` under a stand-in for systemd: READY=1, STATUS=, WATCHDOG=1, then SIGTERM during a real bridged call."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from teamfoned.store.engine import create_engine
from teamfoned.store.migrate import upgrade

from .routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


class NotifySocket:
    """The datagram socket systemd would listen on; keeps every message the daemon sent."""

    def __init__(self) -> None:
        # A socket path must be short (108 bytes): a fresh directory under the system temp.
        self.dir = tempfile.mkdtemp(prefix="tfd-notify-")
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.messages: list[tuple[float, dict[str, str]]] = []
        # Read as systemd does, all the time: an unread queue would make the daemon drop messages.
        asyncio.get_running_loop().add_reader(self.sock, self.drain)

    def drain(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines())
            self.messages.append((time.monotonic(), fields))

    def having(self, key: str) -> list[tuple[float, dict[str, str]]]:
        self.drain()
        return [m for m in self.messages if key in m[1]]

    async def wait(self, key: str, value: str | None = None, timeout: float = 20.0) -> dict[str, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _, fields in self.having(key):
                if value is None or fields[key] == value:
                    return fields
            await asyncio.sleep(0.05)
        raise TimeoutError(f"no {key}={value or '*'} on the notify socket: {self.messages}")

    def close(self) -> None:
        asyncio.get_running_loop().remove_reader(self.sock)
        self.sock.close()
        os.unlink(self.path)
        os.rmdir(self.dir)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_systemd_notify_and_sigterm_drain_during_a_bridged_call(routing, carrier, pbx, tmp_path):
    routing.engine = create_engine(routing.db_url)
    await upgrade(routing.engine)
    await routing.import_directory(directory(available=("alice",)))
    await carrier.set_phone(PHONES["alice"], "answer", delay=0.3)
    config = tmp_path / "teamfoned.yaml"
    config.write_text(yaml.safe_dump({
        "node": "shutdown-node",
        "ari": {"url": pbx.ari_url, "username": pbx.ari_user, "password": pbx.ari_password, "app": pbx.app},
        "database": {"url": routing.db_url},
        "telephony": {"trunk_dial_template": "PJSIP/{number}@trunk", "allowed_countries": ["NL"]},
        "http": {"port": free_port()},
        "shutdown": {"drain_limit": 20},
        "logging": {"format": "json"},
    }))
    notify = NotifySocket()
    log_path = tmp_path / "daemon.log"
    env = {**os.environ, "NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"}
    env.pop("WATCHDOG_PID", None)
    with open(log_path, "wb") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "teamfoned.cli", "--config", str(config), "run"],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    try:
        ready = await notify.wait("READY", "1")
        assert ready["STATUS"].startswith("routing calls")
        ready_at = notify.having("READY")[0][0]
        # WatchdogSec=0.4 s: a ping about every 0.2 s, from the event loop itself.
        await asyncio.sleep(1.0)
        pings = [t for t, _ in notify.having("WATCHDOG") if t >= ready_at]
        assert len(pings) >= 3, notify.messages
        assert max(b - a for a, b in itertools.pairwise(pings)) < 0.4

        leg = await carrier.call(TEAM_NUMBER)
        await carrier.wait_for(lambda: leg.answered, 10, "the caller to be connected")
        await asyncio.sleep(0.5)  # bridged and talking
        daemon.send_signal(signal.SIGTERM)
        stopping = await notify.wait("STOPPING", "1")
        assert "1 call(s) in progress" in stopping["STATUS"]

        # A new caller during the drain reaches the dialplan fallback (it answers and hangs up).
        late = await carrier.call(TEAM_NUMBER)
        await carrier.wait_for(lambda: late.ended_at is not None, 15, "the fallback to end the late call")
        assert late.answered
        # The first call talks on: the daemon waits for it.
        assert leg.ended_at is None and daemon.poll() is None
        await carrier.hangup_caller(leg)
        assert await asyncio.to_thread(daemon.wait, 15) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        notify.close()
    log_text = log_path.read_text()
    assert '"drain_finished"' in log_text and '"calls_ended": 0' in log_text, log_text[-3000:]
    [call] = await routing.calls()  # the late caller never became a call of ours
    assert call.outcome == "answered" and call.answered_by == "alice"


async def test_drain_limit_ends_the_calls_left_and_says_how_many(routing, carrier):
    await routing.setup(directory(available=("alice",)), drain_seconds=1.0)
    await carrier.set_phone(PHONES["alice"], "answer", delay=0.3)
    leg = await carrier.call(TEAM_NUMBER)
    await routing.wait_bridged()
    daemon = routing.daemon
    task = routing._task
    daemon.stop()
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(task, 10)
    assert 0.9 <= asyncio.get_running_loop().time() - started < 6
    await carrier.wait_for(lambda: leg.ended_at is not None, 10, "the caller to be hung up")
    assert daemon.metrics.drained_calls._value.get() == 1
    [call] = await routing.calls()
    assert call.outcome is not None
    routing.daemon = routing._task = None
