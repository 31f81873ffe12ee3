"""4. Routing decision at scale: 100,000 members in 10,000 teams (10 each) in PostgreSQL, and 1,000,000 in 100,000.

Seeded with set-based SQL (100 tenants, 70 % of members available, 100,000
answered calls in the last day as history, at either size: the history is the
part that grows with calls, not with members, and keeps the seeding time bounded). One sample = the daemon's own
steps for a new call's first member: `candidates()` (who can ring now), the
strategy's pick, and `claim()` (insert the open attempt). The attempt is
closed afterwards, outside the timing.
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from benchmarks.stats import summary
from teamfoned.routing.strategies import next_wave
from teamfoned.store.engine import create_engine
from teamfoned.store.migrate import upgrade
from teamfoned.store.routing_repo import RoutingRepository

TEAMS, PER_TEAM, TENANTS, HISTORY = 10_000, 10, 100, 100_000


def seed_statements(teams: int = TEAMS, per_team: int = PER_TEAM, tenants: int = TENANTS,
                    history: int = HISTORY) -> list[str]:
    TEAMS, PER_TEAM, TENANTS, HISTORY = teams, per_team, tenants, history
    return [
        f"""INSERT INTO tenants (id, name, retention_days, created_at)
            SELECT md5('tenant' || g)::uuid, 'tenant' || g, 90, now() FROM generate_series(0, {TENANTS - 1}) g""",
        f"""INSERT INTO teams (id, tenant_id, name, label, strategy, ring_time_s, max_wait_s, wrap_up_s,
                              confirm_calls, fallback_kind, fallback_target, rr_position, created_at)
            SELECT md5('team' || g)::uuid, md5('tenant' || (g % {TENANTS}))::uuid, 'team' || g, 'Team ' || g,
                   (ARRAY['linear','ring_all','round_robin','longest_idle','fewest_calls','random'])[1 + g % 6],
                   20, 120, 10, false, 'dialplan', NULL, NULL, now()
            FROM generate_series(0, {TEAMS - 1}) g""",
        f"""INSERT INTO team_numbers (number, tenant_id, team_id)
            SELECT '+3130' || lpad(g::text, 7, '0'), md5('tenant' || (g % {TENANTS}))::uuid, md5('team' || g)::uuid
            FROM generate_series(0, {TEAMS - 1}) g""",
        f"""INSERT INTO members (id, tenant_id, name, phone, phone_kind, is_admin, created_at)
            SELECT md5('member' || g)::uuid, md5('tenant' || ((g / {PER_TEAM}) % {TENANTS}))::uuid,
                   'member ' || g, '+3162' || lpad(g::text, 7, '0'), 'e164', false, now()
            FROM generate_series(0, {TEAMS * PER_TEAM - 1}) g""",
        f"""INSERT INTO memberships (id, tenant_id, team_id, member_id, priority)
            SELECT md5('ms' || g)::uuid, md5('tenant' || ((g / {PER_TEAM}) % {TENANTS}))::uuid,
                   md5('team' || (g / {PER_TEAM}))::uuid, md5('member' || g)::uuid, 1 + g % {PER_TEAM}
            FROM generate_series(0, {TEAMS * PER_TEAM - 1}) g""",
        f"""INSERT INTO availability (member_id, available, until, changed_at)
            SELECT md5('member' || g)::uuid, g % 10 < 7, NULL, now()
            FROM generate_series(0, {TEAMS * PER_TEAM - 1}) g""",
        f"""INSERT INTO calls (id, tenant_id, team_id, node, started_at, answered_at, ended_at, outcome,
                              wait_seconds, talk_seconds, answered_by)
            SELECT md5('call' || g)::uuid, md5('tenant' || (((g * 7919) % {TEAMS * PER_TEAM}) / {PER_TEAM} % {TENANTS}))::uuid,
                   md5('team' || (((g * 7919) % {TEAMS * PER_TEAM}) / {PER_TEAM}))::uuid, 'bench',
                   now() - interval '20 hours' + g * interval '0.5 second',
                   now() - interval '20 hours' + g * interval '0.5 second' + interval '5 seconds',
                   now() - interval '20 hours' + g * interval '0.5 second' + interval '60 seconds',
                   'answered', 5, 55, md5('member' || ((g * 7919) % {TEAMS * PER_TEAM}))::uuid
            FROM generate_series(0, {HISTORY - 1}) g""",
        f"""INSERT INTO attempts (id, call_id, tenant_id, member_id, channel_id, node, started_at,
                                 answered_at, ended_at, result)
            SELECT md5('attempt' || g)::uuid, md5('call' || g)::uuid, c.tenant_id, c.answered_by, NULL, 'bench',
                   c.started_at, c.answered_at, c.ended_at, 'answered'
            FROM generate_series(0, {HISTORY - 1}) g JOIN calls c ON c.id = md5('call' || g)::uuid""",
        "ANALYZE",
    ]


async def measure(url: str, samples: int, *, teams: int = TEAMS) -> dict:
    engine = create_engine(url, pool_size=5)
    try:
        await upgrade(engine)
        t0 = time.monotonic()
        async with engine.begin() as conn:
            for statement in seed_statements(teams):
                await conn.execute(text(statement))
        seed_seconds = time.monotonic() - t0
        repo = RoutingRepository(engine)
        rng = random.Random(7)
        decide, fetch, claim_ms, empty = [], [], [], 0
        team_ids = [uuid.UUID(hex=h) for (h,) in (await _rows(engine, f"SELECT md5('team' || g) FROM generate_series(0, {teams - 1}) g"))]
        tenants = await _rows(engine, "SELECT id, tenant_id FROM teams")
        tenant_of = {row[0]: row[1] for row in tenants}
        for k in range(samples + 20):  # the first 20 warm the pool and the caches
            team = rng.choice(team_ids)
            call_id = uuid.uuid4()
            now = datetime.now(UTC)
            await repo.start_call(call_id, tenant_of[team], team, caller_number=None,
                                  dialled_number=None, channel_id=None, node="bench", now=now)
            t0 = time.perf_counter()
            found = await repo.candidates(team, now=now)
            t1 = time.perf_counter()
            wave = next_wave("linear", found, rr_position=None, rng=rng)
            attempt = uuid.uuid4()
            claimed = bool(wave.members) and await repo.claim(
                call_id, wave.members[0].member_id, attempt, str(attempt), now=now, node="bench")
            t2 = time.perf_counter()
            if claimed:
                await repo.attempt_ended(attempt, "no_answer", now=now)
            else:
                empty += 1
            await repo.finish_call(call_id, "no_one_available", now=now, wait_seconds=0, talk_seconds=None)
            if k >= 20:
                decide.append((t2 - t0) * 1000)
                fetch.append((t1 - t0) * 1000)
                claim_ms.append((t2 - t1) * 1000)
        return {"decision": summary(decide), "candidates": summary(fetch), "claim": summary(claim_ms),
                "teams_without_candidate": empty, "seed_seconds": round(seed_seconds, 1)}
    finally:
        await engine.dispose()


async def _rows(engine, sql: str):
    async with engine.connect() as conn:
        return (await conn.execute(text(sql))).all()
