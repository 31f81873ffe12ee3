"""`teamfoned run` as a child process of the test, so a test can SIGKILL it like a crash would."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.bench.asterisk_instance import free_port

REPO = Path(__file__).resolve().parents[2]


class DaemonProcess:
    """One daemon process per start(); its JSON log lines are kept in a file for the test to read."""

    def __init__(self, tmp_path: Path, pbx, db_url: str, node: str = "fault-node") -> None:
        self.config_path = tmp_path / "teamfoned.yaml"
        self.log_path = tmp_path / "daemon.log"
        self.http_port = free_port("127.0.0.1")
        self.config_path.write_text(yaml.safe_dump({
            "node": node,
            "ari": {"url": pbx.ari_url, "username": pbx.ari_user, "password": pbx.ari_password,
                    "app": pbx.app},
            # Its own journal (on PostgreSQL the default is the machine's state directory).
            "database": {"url": db_url, "journal_path": str(tmp_path / f"journal-{node}.jsonl")},
            "telephony": {"trunk_dial_template": "PJSIP/{number}@trunk", "allowed_countries": ["NL"]},
            "logging": {"level": "info", "format": "json"},
            # Its own port: other daemons (other tests, other benches) may hold the default.
            "http": {"listen": "127.0.0.1", "port": self.http_port},
        }))
        self.process: subprocess.Popen | None = None
        self._log = None
        self._offset = 0

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        self._log = open(self.log_path, "ab")
        self._offset = self.log_path.stat().st_size
        self.process = subprocess.Popen(
            [sys.executable, "-m", "teamfoned.cli", "--config", str(self.config_path), "run"],
            cwd=REPO, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def events(self, name: str | None = None) -> list[dict]:
        """Log events of the current process (since the last start), optionally of one name."""
        with open(self.log_path, "rb") as f:
            f.seek(self._offset)
            lines = f.read().decode(errors="replace").splitlines()
        out = []
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and (name is None or event.get("event") == name):
                out.append(event)
        return out

    async def wait_event(self, name: str, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            found = self.events(name)
            if found:
                return found[0]
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.process.returncode}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {name!r} from the daemon in {timeout} s:\n{self.tail()}")
            await asyncio.sleep(0.05)

    async def start_ready(self, timeout: float = 60.0) -> float:
        """Start and wait until connected and resynced; returns the seconds it took.

        The timeout is a bound, not a figure: on a busy machine (the parallel run's two benches
        beside other work) the interpreter took 14 s before its first log line.
        """
        started = time.monotonic()
        self.start()
        await self.wait_event("daemon_ready", timeout)
        return time.monotonic() - started

    def kill(self) -> None:
        """SIGKILL: no clean-up code of the daemon runs, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self._reap()

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
        self._reap()

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def rss_kb(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _reap(self) -> None:
        if self.process is not None:
            self.process.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None
