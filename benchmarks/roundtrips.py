"""8. Database round trips of one simple call on PostgreSQL, counted on the wire.

For this phase the daemon reaches PostgreSQL through a counting relay
(benchmarks/wire_count.py): every turn of the conversation counts, BEGIN,
COMMIT, ROLLBACK and the pool's pre-ping (an empty query the server's own
statistics never see) included. Which statements they were comes from the
server's pg_stat_statements (top-level statements only: the foreign-key checks
the server runs inside an INSERT are no round trips).

One trial: the counters are reset, one call goes to a one-member team whose
phone answers after a second and hangs up half a second later. Read when the
member's INVITE reaches the phone: the round trips before the INVITE. Read once
the call's record is closed: the round trips of the whole call, less what the
daemon sends anyway in that time (its probes, webhook delivery, housekeeping),
at the rate counted over a quiet window before the trials. The meter reads
directly, with its own role, which the statement statistics leave out.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import psycopg
from sqlalchemy.engine import make_url

from benchmarks import dialplan
from benchmarks.carrier_clock import TimedCarrier
from benchmarks.wire_count import WireCounter

METER_ROLE = "roundtrip_meter"
FIRST_MEMBER = 480  # members 480.. are used by no other phase
IDLE_SECONDS = 20.0

COUNT = f"""SELECT coalesce(sum(calls), 0) FROM pg_stat_statements
            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND userid <> (SELECT oid FROM pg_roles WHERE rolname = '{METER_ROLE}')"""
STATEMENTS = f"""SELECT calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) FROM pg_stat_statements
                 WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND userid <> (SELECT oid FROM pg_roles WHERE rolname = '{METER_ROLE}')
                 ORDER BY calls DESC"""
OPEN_CALLS = "SELECT count(*) FROM calls WHERE outcome IS NULL"


def meter_dsn(sqlalchemy_url: str) -> str:
    url = make_url(sqlalchemy_url)
    return f"host={url.host} port={url.port} dbname={url.database} user={METER_ROLE}"


async def _scalar(conn: psycopg.AsyncConnection, sql: str) -> int:
    cur = await conn.execute(sql)
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def _reset(conn: psycopg.AsyncConnection) -> None:
    await conn.execute("SELECT pg_stat_statements_reset()")


async def _wait_closed(conn: psycopg.AsyncConnection, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while await _scalar(conn, OPEN_CALLS):
        if time.monotonic() > deadline:
            raise TimeoutError("the call's record was not closed")
        await asyncio.sleep(0.05)


async def one_trial(conn: psycopg.AsyncConnection, wire: WireCounter, carrier: TimedCarrier, i: int) -> dict:
    phone = dialplan.member_phone(i)
    await carrier.set_phone(phone, "hangup", delay=1, after=0.5)
    await carrier.wait_idle(10)
    seen = len(carrier.rang)
    await _reset(conn)
    start = wire.roundtrips
    t0 = time.monotonic()
    await carrier.call(dialplan.number(dialplan.TEAMFONED_PREFIX, i), timeout=20)
    await carrier.wait_for(lambda: any(n == phone for n, _ in carrier.rang[seen:]), 10, f"{phone} to ring")
    before_invite = wire.roundtrips - start
    await carrier.wait_idle(15)
    await _wait_closed(conn, 10)
    await asyncio.sleep(0.3)  # writes after the hang-up's last event
    whole = wire.roundtrips - start
    statements_total = await _scalar(conn, COUNT)
    cur = await conn.execute(STATEMENTS)
    statements = [(int(n), q) for n, q in await cur.fetchall()]
    window = time.monotonic() - t0
    await carrier.set_phone(phone, "answer")
    return {"before_invite": before_invite, "whole_call": whole, "window_s": round(window, 3),
            "server_statements_whole_call": statements_total, "statements": statements}


async def idle_rate(wire: WireCounter, seconds: float) -> float:
    """Round trips per second the daemon sends with no call (probes, webhook delivery, housekeeping)."""
    start, t0 = wire.roundtrips, time.monotonic()
    await asyncio.sleep(seconds)
    return (wire.roundtrips - start) / (time.monotonic() - t0)


async def measure(cluster_sql, db_url: str, wire: WireCounter, carrier: TimedCarrier, trials: int) -> dict:
    """`cluster_sql` runs a statement as the cluster's superuser (to create the meter's role)."""
    cluster_sql(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{METER_ROLE}') "
                f"THEN CREATE ROLE {METER_ROLE} LOGIN SUPERUSER; END IF; END $$")
    conn = await psycopg.AsyncConnection.connect(meter_dsn(db_url), autocommit=True)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        # Two calls first: the daemon's pool opens its connections (not a call's cost).
        for k in range(2):
            await one_trial(conn, wire, carrier, FIRST_MEMBER + k)
        # The background's rate over a long quiet window, taken off each call's count (a
        # window as short as one call's would make the figure jump by a whole poll).
        background = await idle_rate(wire, IDLE_SECONDS)
        out = [await one_trial(conn, wire, carrier, FIRST_MEMBER + k % 10) for k in range(trials)]
        for trial in out:
            trial["background"] = round(background * trial["window_s"], 1)
            trial["per_call"] = round(trial["whole_call"] - trial["background"], 1)
    finally:
        await conn.close()
    # Which statements one call sent (the last trial's), for the profile notes.
    statements = out[-1].pop("statements") if out else []
    for trial in out:
        trial.pop("statements", None)
    return {
        "background_per_second": round(background, 2),
        "trials": out,
        "statements_of_one_call": statements,
        "before_invite_median": statistics.median(t["before_invite"] for t in out),
        "per_call_median": statistics.median(t["per_call"] for t in out),
    }
