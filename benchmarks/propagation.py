"""6. Propagation: from an availability change over HTTP to its use by the next call.

Team "prop" rings prop-a first (linear) when she is available, else prop-b.
Each trial flips prop-a's availability with PUT /v1/me/availability and, as
soon as the response arrives, places a call; the phone that rings shows
whether the change was used. teamfoned keeps no cache of availability: each
call reads the database, so the change is in use once its transaction has
committed, which is before the PUT's response.

The two-node variant changes what the daemon keeps in its routing directory (in
memory), from another process: the API runs as its own process with its own
database connections, as another node's would. Each trial puts a holiday on the
team, or takes it off, over the admin API; the team's closed fallback is
prop-b's number, so a call that rings prop-b used the holiday and one that rings
prop-a used its removal. The daemon learns of each change by PostgreSQL's
notification, nothing else (its version check runs every few seconds; a trial
takes less).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import select, update

from benchmarks import dialplan, env
from benchmarks.carrier_clock import TimedCarrier
from benchmarks.http_availability import ApiProcess
from benchmarks.stats import summary
from teamfoned.store.engine import create_engine
from teamfoned.store.tables import members
from teamfoned.store.tokens_repo import create_token


async def token_for(url: str, name: str, *, admin: bool = False) -> str:
    engine = create_engine(url)
    try:
        if admin:
            async with engine.begin() as conn:
                await conn.execute(update(members).where(members.c.name == name).values(is_admin=True))
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


async def _ring_of_next_call(carrier: TimedCarrier, number: str) -> tuple[str, float]:
    seen = len(carrier.rang)
    leg = await carrier.call(number, timeout=20)
    await carrier.wait_for(lambda: len(carrier.rang) > seen, 10, "a prop phone to ring")
    rang = carrier.rang[seen]
    await carrier.wait_for(lambda: leg.uniqueid in carrier._channels or leg.ended.is_set(), 5,
                           "the caller channel")
    await carrier.hangup_caller(leg)
    await carrier.wait_idle(10)
    carrier.forget()
    return rang


async def measure_two_nodes(url: str, carrier: TimedCarrier, workdir: Path, trials: int) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    admin = {"Authorization": f"Bearer {await token_for(url, 'prop-b', admin=True)}"}
    member = {"Authorization": f"Bearer {await token_for(url, 'prop-a')}"}
    phone_a = dialplan.member_phone(env.MEMBERS)
    phone_b = dialplan.member_phone(env.MEMBERS + 1)
    number = dialplan.number(dialplan.TEAMFONED_PREFIX, 9000)
    today = datetime.now(UTC).date().isoformat()  # the team's zone is UTC
    write_ms, to_ring_ms, used = [], [], 0
    async with ApiProcess(url, workdir / "api.log") as api, aiohttp.ClientSession(base_url=api.base) as http:
        async def send(method: str, path: str, headers: dict, body: dict | None = None,
                       also_fine: int | None = None) -> None:
            async with http.request(method, path, json=body, headers=headers) as resp:
                await resp.read()
                if resp.status >= 300 and resp.status != also_fine:
                    raise RuntimeError(f"{method} {path} failed: {resp.status}")

        async with http.get("/v1/admin/teams", headers=admin) as resp:
            team = next(t["id"] for t in await resp.json() if t["name"] == "prop")
        await send("PUT", "/v1/me/availability", member, {"available": True})
        await send("PATCH", f"/v1/admin/teams/{team}", admin, {"closed_kind": "number", "closed_target": phone_b})
        try:
            for k in range(trials):
                closed = k % 2 == 0
                t0_wall, t0 = time.time(), time.perf_counter()
                if closed:
                    await send("POST", f"/v1/admin/teams/{team}/holidays", admin, {"date": today})
                else:
                    await send("DELETE", f"/v1/admin/teams/{team}/holidays/{today}", admin)
                write_ms.append((time.perf_counter() - t0) * 1000)
                rang_number, rang_at = await _ring_of_next_call(carrier, number)
                if rang_number == (phone_b if closed else phone_a):
                    used += 1
                    to_ring_ms.append((rang_at - t0_wall) * 1000)
        finally:
            # The team as the other phases expect it: open, no closed fallback, prop-a away.
            await send("DELETE", f"/v1/admin/teams/{team}/holidays/{today}", admin, also_fine=404)
            await send("PATCH", f"/v1/admin/teams/{team}", admin, {"closed_kind": None, "closed_target": None})
            await send("PUT", "/v1/me/availability", member, {"available": False})
    return {"trials": trials, "next_call_used_change": used, "write_ms": summary(write_ms),
            "change_to_ring_ms": summary(to_ring_ms)}
