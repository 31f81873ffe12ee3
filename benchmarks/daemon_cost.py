"""3. Daemon cost on real calls: CPU per routed call, resident memory at 0, 100 and 500 concurrent calls.

SIPp places answered calls into teamfoned's team numbers (one member per
team; the carrier's phones answer at once); each call is routed, bridged,
held for `hold_s` and hung up by the caller. CPU is the daemon process's
user+system time over the whole run divided by the calls it answered.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import psutil
from sqlalchemy import text

from benchmarks import dialplan, sipp
from teamfoned.store.engine import create_engine

ACTIVE = "SELECT count(*) FROM calls WHERE outcome IS NULL AND answered_at IS NOT NULL"
OPEN = "SELECT count(*) FROM calls WHERE outcome IS NULL"
ANSWERED = "SELECT count(*) FROM calls WHERE outcome = 'answered'"


def cpu_seconds(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


def rss_mb(proc: psutil.Process) -> float:
    return proc.memory_info().rss / 2**20


async def scalar(engine, sql: str) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql))).scalar_one()


async def wait_quiet(engine, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while await scalar(engine, OPEN) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)


async def measure(db_url: str, pid: int, target: str, local_host: str, workdir: Path, *,
                  calls: int, rate: float, hold_s: float, carrier=None) -> dict:
    proc = psutil.Process(pid)
    engine = create_engine(db_url)
    try:
        await wait_quiet(engine)
        rss = {"0": rss_mb(proc)}
        cpu0, answered0 = cpu_seconds(proc), await scalar(engine, ANSWERED)
        numbers = [dialplan.number(dialplan.TEAMFONED_PREFIX, i) for i in range(calls)]
        run = asyncio.create_task(sipp.run_calls(
            workdir, target=target, numbers=numbers, rate=rate, calls=calls,
            pause_ms=int(hold_s * 1000), limit=calls + 10, local_host=local_host,
            timeout_s=int(calls / rate + hold_s + 40)))
        peak = 0
        while not run.done():
            active = await scalar(engine, ACTIVE)
            peak = max(peak, active)
            for mark in (100, 500):
                if active >= min(mark, int(calls * 0.9)) and str(mark) not in rss:
                    rss[str(mark)] = rss_mb(proc)
            await asyncio.sleep(0.25)
        out = run.result()
        await wait_quiet(engine)
        if carrier is not None:
            try:
                await carrier.wait_idle(30)
            except TimeoutError:
                pass
            carrier.forget()
        cpu1, answered1 = cpu_seconds(proc), await scalar(engine, ANSWERED)
        done = answered1 - answered0
        return {"rss_mb": {k: round(v, 1) for k, v in rss.items()}, "peak_concurrent": peak,
                "answered_calls": done, "sipp": out,
                "cpu_ms_per_call": (cpu1 - cpu0) * 1000 / done if done else None,
                "rss_after_mb": round(rss_mb(proc), 1)}
    finally:
        await engine.dispose()
