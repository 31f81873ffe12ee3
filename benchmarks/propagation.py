"""6. Propagation: from an availability change over HTTP to its use by the next call.

Team "prop" rings prop-a first (linear) when she is available, else prop-b.
Each trial flips prop-a's availability with PUT /v1/me/availability and, as
soon as the response arrives, places a call; the phone that rings shows
whether the change was used. teamfoned keeps no cache of availability: each
call reads the database, so the change is in use once its transaction has
committed, which is before the PUT's response.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import select

from benchmarks import dialplan, env
from benchmarks.carrier_clock import TimedCarrier
from benchmarks.http_availability import ApiProcess
from benchmarks.stats import summary
from teamfoned.store.engine import create_engine
from teamfoned.store.tables import members
from teamfoned.store.tokens_repo import create_token


async def token_for(url: str, name: str) -> str:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            member_id, tenant_id = (await conn.execute(
                select(members.c.id, members.c.tenant_id).where(members.c.name == name))).one()
        from teamfoned.store.engine import create_sessionmaker
        async with create_sessionmaker(engine)() as session, session.begin():
            _, token = await create_token(session, tenant_id, member_id, now=datetime.now(UTC))
        return token
    finally:
        await engine.dispose()


async def measure(url: str, carrier: TimedCarrier, workdir: Path, trials: int) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    token = await token_for(url, "prop-a")
    phone_a = dialplan.member_phone(env.MEMBERS)
    phone_b = dialplan.member_phone(env.MEMBERS + 1)
    number = dialplan.number(dialplan.TEAMFONED_PREFIX, 9000)
    put_ms, to_ring_ms, used = [], [], 0
    async with ApiProcess(url, workdir / "api.log") as api, aiohttp.ClientSession() as http:
        for k in range(trials):
            available = k % 2 == 0
            expect = phone_a if available else phone_b
            seen = len(carrier.rang)
            t0_wall, t0 = time.time(), time.perf_counter()
            async with http.put(f"{api.base}/v1/me/availability", json={"available": available},
                                headers={"Authorization": f"Bearer {token}"}) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"PUT failed: {resp.status}")
            put_ms.append((time.perf_counter() - t0) * 1000)
            leg = await carrier.call(number, timeout=20)
            await carrier.wait_for(lambda seen=seen: len(carrier.rang) > seen, 10, "a prop phone to ring")
            rang_number, rang_at = carrier.rang[seen]
            if rang_number == expect:
                used += 1
                to_ring_ms.append((rang_at - t0_wall) * 1000)
            await carrier.wait_for(lambda leg=leg: leg.uniqueid in carrier._channels or leg.ended.is_set(), 5,
                                   "the caller channel")
            await carrier.hangup_caller(leg)
            await carrier.wait_idle(10)
            carrier.forget()
    return {"trials": trials, "next_call_used_change": used, "put_ms": summary(put_ms),
            "change_to_ring_ms": summary(to_ring_ms)}
