"""The fault bench: the routing bench's database and directory, with the daemon as a child process.

The test keeps its own ARI client for REST only (it never opens the event
stream, which would replace the daemon's), to look at what Asterisk holds.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from teamfoned.telephony.ari import AriClient
from tests.e2e.routing_bench import RoutingBench

from .daemon_process import DaemonProcess


class InProcessBench(RoutingBench):
    """The routing bench's in-process daemon, with a node name and no HTTP module.

    (Other daemons on this machine may hold the HTTP module's default port.)
    """

    def __init__(self, pbx, carrier, tmp_path: Path, db_url: str | None = None,
                 node: str = "bench-node") -> None:
        super().__init__(pbx, carrier, tmp_path, db_url)
        self.node = node

    def settings(self, **overrides):
        overrides.setdefault("node", self.node)
        overrides.setdefault("http", {"enabled": False})
        return super().settings(**overrides)


class FaultBench(RoutingBench):
    def __init__(self, pbx, carrier, tmp_path: Path, db_url: str | None = None,
                 node: str = "fault-node") -> None:
        super().__init__(pbx, carrier, tmp_path, db_url)
        self.process = DaemonProcess(tmp_path, pbx, self.db_url, node=node)
        self.rest = AriClient(pbx.ari_url, pbx.ari_user, pbx.ari_password, pbx.app)

    async def start(self, **_ignored) -> None:
        seconds = await self.process.start_ready()
        print(f"daemon process ready in {seconds:.2f} s (pid {self.process.pid})")

    async def stop(self) -> None:
        self.process.stop()
        await self.rest.close()
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    async def bridges(self) -> list[dict]:
        return [b for b in await self.rest.list_bridges() if b["id"].startswith("teamfoned-")]

    async def wait_bridged(self, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for bridge in await self.bridges():
                if len(bridge["channels"]) == 2:
                    return bridge
            if time.monotonic() > deadline:
                raise TimeoutError("no bridge with caller and member")
            await asyncio.sleep(0.05)

    async def assert_clean(self, timeout: float = 10.0) -> float:
        """Nothing of ours is left; returns how long it took to get there."""
        started = time.monotonic()
        deadline = started + timeout
        while True:
            channels = await self.rest.list_channels()
            bridges = await self.bridges()
            open_attempts = await self.open_attempts()
            open_calls = [c for c in await self.calls() if c.outcome is None]
            if not (channels or bridges or open_attempts or open_calls):
                break
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"left behind: channels={[c['name'] for c in channels]} bridges={[b['id'] for b in bridges]} "
                    f"open attempts={open_attempts} open calls={open_calls}\n{self.process.tail()}")
            await asyncio.sleep(0.1)
        await self.carrier.wait_idle(timeout)
        return time.monotonic() - started
