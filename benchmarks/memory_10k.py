"""3b. Memory after 10,000 calls: the real dispatcher, call runners, routing core and PostgreSQL store,
driven by an in-process fake ARI (real SIP at this count would not fit the bench's time budget).

Run as its own process (`python -m benchmarks.memory_10k URL CALLS`) so its
resident memory is the daemon's code alone; prints one JSON line. Each call:
the caller enters Stasis, the member is claimed and originated, the leg
answers, the call is bridged, the caller hangs up; 50 calls in flight. A time budget bounds the run: if it
stops short of CALLS, the output says how many calls it made.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime

import psutil

from benchmarks import dialplan
from teamfoned.logs import configure_logging
from teamfoned.store.engine import create_engine, create_sessionmaker
from teamfoned.store.routing_repo import RoutingRepository
from teamfoned.telephony.dispatcher import CallDispatcher

IN_FLIGHT = 50


class FakeAri:
    """Answers every REST call at once and plays the events a real PBX would send back."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()
        self.live: set[str] = set()
        self.callers: set[str] = set()  # callers whose channel is not gone yet
        self.bridged: dict[str, list[str]] = {}

    async def events(self):
        while True:
            event = await self.queue.get()
            if event is None:
                return
            yield event

    def _emit(self, event: dict) -> None:
        self.queue.put_nowait(event)

    def _gone(self, channel_id: str) -> None:
        if channel_id in self.live:
            self.live.discard(channel_id)
            self.callers.discard(channel_id)
            self._emit({"type": "StasisEnd", "channel": {"id": channel_id}})
            self._emit({"type": "ChannelDestroyed", "channel": {"id": channel_id}, "cause": 16})

    def caller(self, number: str) -> None:
        channel_id = str(uuid.uuid4())
        self.live.add(channel_id)
        self.callers.add(channel_id)
        self._emit({"type": "StasisStart", "args": [number], "channel": {
            "id": channel_id, "state": "Ring", "caller": {"number": "+31201234567"},
            "dialplan": {"context": "from-trunk", "exten": number}}})

    async def originate(self, endpoint, *, channel_id, app_args=None, **_):
        self.live.add(channel_id)
        self._emit({"type": "ChannelStateChange", "channel": {"id": channel_id, "state": "Ringing"}})
        self._emit({"type": "StasisStart", "args": [app_args] if app_args else [],
                    "channel": {"id": channel_id, "state": "Up"}})
        return {"id": channel_id}

    async def add_to_bridge(self, bridge_id, channel_ids):
        # Talking: the caller hangs up a moment later.
        asyncio.get_running_loop().call_later(0.005, self._gone, channel_ids[0])

    async def hangup(self, channel_id, *_, **__):
        self._gone(channel_id)

    async def continue_in_dialplan(self, channel_id, **_):
        self._gone(channel_id)

    async def get_application(self):
        return {"channel_ids": list(self.live)}

    async def list_channels(self):
        return []

    async def list_bridges(self):
        return []

    def __getattr__(self, name):
        async def ok(*_, **__):
            return {}
        return ok


def rss_mb() -> float:
    return psutil.Process(os.getpid()).memory_info().rss / 2**20


async def main(url: str, total: int, teams: int, budget_s: float = 1e9) -> dict:
    configure_logging("info", "json", stream=open(os.devnull, "w"))
    engine = create_engine(url)
    repo = RoutingRepository(create_sessionmaker(engine))
    ari = FakeAri()
    dispatcher = CallDispatcher(ari, repo, clock=lambda: datetime.now(UTC), node="mem",
                                trunk_template="PJSIP/{number}@trunk", rng=random.Random(1))
    runner = asyncio.create_task(dispatcher.run())
    await asyncio.sleep(0.1)
    marks: dict[str, float] = {}
    warmup = min(500, total // 10)
    t0 = time.monotonic()
    async def drained() -> None:
        while ari.callers or dispatcher.calls_in_progress:
            await asyncio.sleep(0.005)

    done = 0
    for k in range(total):
        if time.monotonic() - t0 > budget_s and done > warmup:
            break  # out of time: the last mark is taken where we stopped
        while len(ari.callers) >= IN_FLIGHT:
            await asyncio.sleep(0.001)
        ari.caller(dialplan.number(dialplan.TEAMFONED_PREFIX, k % teams))
        done = k + 1
        if done == warmup or done % (total // 4) == 0:
            await drained()
            gc.collect()
            marks[str(done)] = round(rss_mb(), 2)
    await drained()
    elapsed = time.monotonic() - t0
    if str(done) not in marks:
        gc.collect()
        marks[str(done)] = round(rss_mb(), 2)
    ari.queue.put_nowait(None)
    await runner
    await engine.dispose()
    return {"rss_mb_by_calls": marks, "baseline_calls": warmup,
            "calls": done, "rss_growth_mb": round(marks[str(done)] - marks[str(warmup)], 2),
            "calls_per_second": round(done / elapsed, 1), "seconds": round(elapsed, 1)}


if __name__ == "__main__":
    budget = float(sys.argv[4]) if len(sys.argv) > 4 else 1e9
    print(json.dumps(asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), budget))))
