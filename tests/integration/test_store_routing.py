"""The routing repository on SQLite and PostgreSQL: who may ring, atomic claims, idempotent endings."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from teamfoned.routing.model import AttemptResult, CallOutcome, Candidate, LineView
from teamfoned.store.engine import create_engine, create_sessionmaker
from teamfoned.store.migrate import upgrade
from teamfoned.store.routing_repo import RoutingRepository
from teamfoned.store.tables import (
    attempts,
    availability,
    calls,
    members,
    memberships,
    team_numbers,
    teams,
    tenants,
    webhook_deliveries,
    webhooks,
)
from teamfoned.store.waiting_repo import WaitingRepository

NOW = datetime(2030, 5, 6, 12, 0, tzinfo=UTC)
NODE = "node-a"


@dataclass
class Seed:
    tenant_id: uuid.UUID = field(default_factory=uuid.uuid4)
    team_id: uuid.UUID = field(default_factory=uuid.uuid4)
    members: list[uuid.UUID] = field(default_factory=list)


async def seed(engine: AsyncEngine, n_members: int = 3, *, wrap_up_s: int = 30) -> Seed:
    s = Seed()
    async with engine.begin() as conn:
        await conn.execute(insert(tenants).values(id=s.tenant_id, name=f"t-{s.tenant_id.hex[:6]}",
                                                  retention_days=30, created_at=NOW))
        await conn.execute(insert(teams).values(
            id=s.team_id, tenant_id=s.tenant_id, name="desk", label="Help desk",
            strategy="linear", ring_time_s=20, max_wait_s=120, wrap_up_s=wrap_up_s,
            confirm_calls=False, fallback_kind="dialplan", fallback_target="fallback,s,1",
            rr_position=None, created_at=NOW))
        await conn.execute(insert(team_numbers).values(
            number="+31201234567", tenant_id=s.tenant_id, team_id=s.team_id))
        for i in range(n_members):
            mid = uuid.uuid4()
            s.members.append(mid)
            await conn.execute(insert(members).values(
                id=mid, tenant_id=s.tenant_id, name=f"m{i}", phone=f"+3161234567{i}",
                phone_kind="e164", is_admin=False, created_at=NOW))
            await conn.execute(insert(memberships).values(
                id=uuid.uuid4(), tenant_id=s.tenant_id, team_id=s.team_id, member_id=mid,
                priority=i + 1))
            await conn.execute(insert(availability).values(
                member_id=mid, available=True, until=None, changed_at=NOW))
    return s


@pytest.fixture
async def engine(migrated_db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(migrated_db_url)
    yield eng
    await eng.dispose()


async def open_call(repo: RoutingRepository, s: Seed) -> uuid.UUID:
    call_id = uuid.uuid4()
    await repo.start_call(call_id, s.tenant_id, s.team_id, caller_number="+31101234567",
                          dialled_number="+31201234567", channel_id="caller-1", node=NODE, now=NOW)
    return call_id


async def open_attempts_per_member(engine: AsyncEngine) -> dict[uuid.UUID, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(attempts.c.member_id, func.count())
            .where(attempts.c.ended_at.is_(None))
            .group_by(attempts.c.member_id))
        return {m: n for m, n in rows}


async def test_team_for_number(engine: AsyncEngine) -> None:
    s = await seed(engine)
    repo = RoutingRepository(engine)
    route = await repo.team_for_number("+31201234567")
    assert route is not None
    assert (route.tenant_id, route.team_id, route.team_name, route.strategy) == (
        s.tenant_id, s.team_id, "desk", "linear")
    assert (route.ring_time, route.max_wait, route.wrap_up) == (20.0, 120.0, 30.0)
    assert route.policy(confirm_time=10, too_late_seconds=2).strategy == "linear"
    assert (await repo.team_for_number("31201234567")) == route  # without "+"
    assert await repo.team_for_number("+31209999999") is None
    await repo.save_rr_position(s.team_id, 2)
    assert (await repo.team_for_number("+31201234567")).rr_position == 2


async def test_candidates_in_priority_order_with_member_phone(engine: AsyncEngine) -> None:
    s = await seed(engine)
    repo = RoutingRepository(engine)
    found = await repo.candidates(s.team_id, now=NOW, exclude=())
    assert found == [Candidate(m, i + 1, None, 0) for i, m in enumerate(s.members)]
    assert await repo.member_phone(s.members[0]) == ("e164", "+31612345670")
    assert await repo.member_phone(uuid.uuid4()) is None


async def test_candidates_exclude_unavailable_expired_busy_wrapup_and_excluded(
    engine: AsyncEngine,
) -> None:
    s = await seed(engine, n_members=6, wrap_up_s=30)
    unavailable, expired, busy, wrapping, excluded, free = s.members
    repo = RoutingRepository(engine)
    async with engine.begin() as conn:
        await conn.execute(availability.update().where(availability.c.member_id == unavailable)
                           .values(available=False))
        await conn.execute(availability.update().where(availability.c.member_id == expired)
                           .values(until=NOW - timedelta(seconds=1)))
        await conn.execute(availability.update().where(availability.c.member_id == free)
                           .values(until=NOW + timedelta(hours=1)))
    call_id = await open_call(repo, s)
    assert await repo.claim(call_id, busy, uuid.uuid4(), "leg-busy", now=NOW, node=NODE)
    # wrapping answered a call that ended 10 s ago: within the team's 30 s wrap-up.
    wrap_attempt = uuid.uuid4()
    earlier = NOW - timedelta(minutes=5)
    assert await repo.claim(call_id, wrapping, wrap_attempt, "leg-w", now=earlier, node=NODE)
    await repo.attempt_answered(wrap_attempt, now=earlier + timedelta(seconds=5))
    await repo.attempt_ended(wrap_attempt, AttemptResult.ANSWERED, now=NOW - timedelta(seconds=10))

    found = await repo.candidates(s.team_id, now=NOW, exclude={excluded})
    assert [c.member_id for c in found] == [free]

    # After the wrap-up the member is back, with idle_since and a call counted.
    later = NOW + timedelta(seconds=25)
    back = {c.member_id: c for c in await repo.candidates(s.team_id, now=later, exclude=())}
    assert wrapping in back and busy not in back
    assert back[wrapping].idle_since == NOW - timedelta(seconds=10)
    assert back[wrapping].calls_taken == 1
    # Outside the 24 h statistics window the call no longer counts.
    next_day = NOW + timedelta(days=1, minutes=1)
    back = {c.member_id: c for c in await repo.candidates(s.team_id, now=next_day, exclude=())}
    assert back[wrapping].calls_taken == 0


async def test_claim_is_atomic_one_of_two_wins(engine: AsyncEngine) -> None:
    s = await seed(engine)
    repo = RoutingRepository(engine)
    c1, c2 = await open_call(repo, s), await open_call(repo, s)
    member = s.members[0]
    first = uuid.uuid4()
    assert await repo.claim(c1, member, first, "leg-1", now=NOW, node=NODE) is True
    assert await repo.claim(c2, member, uuid.uuid4(), "leg-2", now=NOW, node="node-b") is False
    await repo.attempt_ended(first, AttemptResult.NO_ANSWER, now=NOW)
    await repo.attempt_ended(first, AttemptResult.FAILED, now=NOW + timedelta(seconds=1))
    async with engine.connect() as conn:
        result = (await conn.execute(select(attempts.c.result).where(attempts.c.id == first))).one()
    assert result[0] == "no_answer"  # the second ending changed nothing
    assert await repo.claim(c2, member, uuid.uuid4(), "leg-2", now=NOW, node="node-b") is True


async def test_finish_call_is_idempotent_and_closes_open_attempts(engine: AsyncEngine) -> None:
    s = await seed(engine)
    repo = RoutingRepository(engine)
    call_id = await open_call(repo, s)
    answered = uuid.uuid4()
    assert await repo.claim(call_id, s.members[0], answered, "leg-a", now=NOW, node=NODE)
    assert await repo.claim(call_id, s.members[1], uuid.uuid4(), "leg-b", now=NOW, node=NODE)
    await repo.attempt_answered(answered, now=NOW + timedelta(seconds=3))
    await repo.call_answered(call_id, s.members[0], now=NOW + timedelta(seconds=3))
    assert [c.call_id for c in await repo.open_call_states(NODE)] == [call_id]

    end = NOW + timedelta(seconds=60)
    await repo.finish_call(call_id, CallOutcome.ANSWERED, now=end, wait_seconds=3.0,
                           talk_seconds=57.0)
    await repo.finish_call(call_id, CallOutcome.FAILED, now=end + timedelta(seconds=9),
                           wait_seconds=0.0, talk_seconds=0.0)
    async with engine.connect() as conn:
        call = (await conn.execute(select(calls).where(calls.c.id == call_id))).one()
        legs = (await conn.execute(select(attempts.c.result, attempts.c.ended_at)
                                   .where(attempts.c.call_id == call_id))).all()
    assert (call.outcome, call.ended_at, call.talk_seconds, call.answered_by) == (
        "answered", end, 57.0, s.members[0])
    assert call.started_at.tzinfo is not None
    assert sorted(r for r, _ in legs) == ["failed", "failed"]
    assert all(e == end for _, e in legs)
    assert await open_attempts_per_member(engine) == {}
    assert await repo.open_call_states(NODE) == []


async def test_concurrent_claims_never_double_book(postgres_database: str) -> None:
    """100 claims on one team's few members from separate engines: every member wins once.

    PostgreSQL only: SQLite serialises writers, so it cannot race.
    """
    engines = [create_engine(postgres_database, pool_size=5) for _ in range(4)]
    try:
        await upgrade(engines[0])
        s = await seed(engines[0], n_members=5)
        repos = [RoutingRepository(e) for e in engines]
        call_ids = [await open_call(repos[0], s) for _ in range(100)]

        async def grab(i: int) -> bool:
            repo = repos[i % len(repos)]
            member = s.members[i % len(s.members)]
            return await repo.claim(call_ids[i], member, uuid.uuid4(), f"leg-{i}", now=NOW,
                                    node=f"node-{i % 2}")

        won = await asyncio.gather(*(grab(i) for i in range(100)))
        assert sum(won) == len(s.members)
        per_member = await open_attempts_per_member(engines[0])
        assert set(per_member) == set(s.members)
        assert all(n == 1 for n in per_member.values())
    finally:
        for e in engines:
            await e.dispose()


async def test_the_call_row_and_its_first_claim_in_one_go(engine: AsyncEngine) -> None:
    s = await seed(engine)
    repo = RoutingRepository(engine)
    won, lost = uuid.uuid4(), uuid.uuid4()
    details = dict(caller_number="+31101234567", dialled_number="+31201234567", channel_id="caller",
                   node=NODE, now=NOW)
    assert await repo.start_call_and_claim(won, s.tenant_id, s.team_id, **details, member_id=s.members[0],
                                           attempt_id=uuid.uuid4(), attempt_channel_id="leg-1", claimed_at=NOW)
    # The member is booked now: the second call is recorded all the same, without the attempt.
    assert not await repo.start_call_and_claim(lost, s.tenant_id, s.team_id, **details, member_id=s.members[0],
                                               attempt_id=uuid.uuid4(), attempt_channel_id="leg-2",
                                               claimed_at=NOW)
    async with engine.connect() as conn:
        recorded = set((await conn.execute(select(calls.c.id))).scalars())
        attempt_calls = list((await conn.execute(select(attempts.c.call_id))).scalars())
    assert recorded == {won, lost}
    assert attempt_calls == [won]
    assert await open_attempts_per_member(engine) == {s.members[0]: 1}


async def test_the_finish_closes_call_and_attempts_and_queues_events_in_few_statements(
        engine: AsyncEngine) -> None:
    s = await seed(engine)
    repo = RoutingRepository(engine)
    hooks = {"both": "call.finished,call.missed", "missed": "call.missed", "finished": "call.finished"}
    hook_ids = {name: uuid.uuid4() for name in hooks}
    async with engine.begin() as conn:
        for name, wanted in hooks.items():
            await conn.execute(insert(webhooks).values(
                id=hook_ids[name], tenant_id=s.tenant_id, url="https://example.invalid/hook",
                secret="s", events=wanted, created_at=NOW))
    call_id = await open_call(repo, s)
    attempt = uuid.uuid4()
    assert await repo.claim(call_id, s.members[0], attempt, "leg-a", now=NOW, node=NODE)
    end = NOW + timedelta(seconds=20)
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        await repo.finish_call(call_id, CallOutcome.ABANDONED, now=end, wait_seconds=20.0,
                               talk_seconds=None)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    # PostgreSQL: the closing statement (call, attempts, the webhooks read back) and the events;
    # SQLite, in process: attempts, call, webhooks, events. Inside one transaction either way.
    assert len(seen) <= (2 if engine.dialect.name == "postgresql" else 4), seen
    async with engine.connect() as conn:
        call = (await conn.execute(select(calls).where(calls.c.id == call_id))).one()
        leg = (await conn.execute(select(attempts.c.result, attempts.c.ended_at)
                                  .where(attempts.c.id == attempt))).one()
        queued = (await conn.execute(select(webhook_deliveries.c.webhook_id, webhook_deliveries.c.event,
                                            webhook_deliveries.c.payload))).all()
    assert (call.outcome, call.ended_at, call.wait_seconds) == ("abandoned", end, 20.0)
    assert (leg.result, leg.ended_at) == ("failed", end)
    assert sorted((hook, event_name) for hook, event_name, _ in queued) == sorted([
        (hook_ids["both"], "call.finished"), (hook_ids["both"], "call.missed"),
        (hook_ids["missed"], "call.missed"), (hook_ids["finished"], "call.finished")])
    for _, event_name, payload in queued:
        body = json.loads(payload)
        assert body["event"] == event_name
        assert body["call"]["call_id"] == str(call_id) and body["call"]["outcome"] == "abandoned"
        assert body["call"]["caller_number"] == "+31101234567" and body["call"]["node"] == NODE
        assert body["call"]["ended_at"] == end.isoformat()
    # A second finish changes nothing and queues nothing.
    await repo.finish_call(call_id, CallOutcome.FAILED, now=end + timedelta(seconds=5),
                           wait_seconds=None, talk_seconds=None)
    async with engine.connect() as conn:
        again = (await conn.execute(select(calls.c.outcome, calls.c.ended_at)
                                    .where(calls.c.id == call_id))).one()
        count_now = (await conn.execute(select(func.count()).select_from(webhook_deliveries))).scalar()
    assert tuple(again) == ("abandoned", end) and count_now == 4


async def test_the_finish_of_a_tenant_without_webhooks_queues_nothing(engine: AsyncEngine) -> None:
    s = await seed(engine)
    repo = RoutingRepository(engine)
    call_id = await open_call(repo, s)
    await repo.finish_call(call_id, CallOutcome.NO_ONE_AVAILABLE, now=NOW, wait_seconds=0.0,
                           talk_seconds=None)
    async with engine.connect() as conn:
        outcome = (await conn.execute(select(calls.c.outcome).where(calls.c.id == call_id))).scalar()
        queued = (await conn.execute(select(func.count()).select_from(webhook_deliveries))).scalar()
    assert outcome == "no_one_available" and queued == 0


async def test_the_candidates_and_the_line_in_one_read_agree_with_each_read_alone(engine: AsyncEngine) -> None:
    s = await seed(engine, n_members=3)
    first, second, third = s.members
    repo = RoutingRepository(engine)
    line = WaitingRepository(create_sessionmaker(engine))
    # Two callers waiting with nobody ringing for them, one earlier and one later than ours.
    mine, earlier, later = [await open_call(repo, s) for _ in range(3)]
    for call_id, arrived in ((earlier, NOW - timedelta(seconds=30)), (later, NOW + timedelta(seconds=5))):
        await line.join_line(call_id, s.tenant_id, s.team_id, arrived_at=arrived, node=NODE, now=arrived)
    # Our call rang `first`, who is busy with it now; `third` is unavailable.
    assert await repo.claim(mine, first, uuid.uuid4(), "leg-1", now=NOW, node=NODE)
    async with engine.begin() as conn:
        await conn.execute(availability.update().where(availability.c.member_id == third)
                           .values(available=False))

    found, seen = await repo.candidates_in_line(s.team_id, mine, arrived_at=NOW, now=NOW, exclude={first})
    assert [c.member_id for c in found] == [second]
    assert seen == LineView(ahead=1, available=1, first_tier=1)  # `earlier` is ahead; `first` was tried
    assert found == await repo.candidates(s.team_id, now=NOW, exclude={first})
    assert seen == await line.line_view(s.team_id, mine, arrived_at=NOW, now=NOW, exclude={first})
    # Nobody free: the line still comes back (one row, no candidate in it).
    async with engine.begin() as conn:
        await conn.execute(availability.update().where(availability.c.member_id == second)
                           .values(available=False))
    found, seen = await repo.candidates_in_line(s.team_id, mine, arrived_at=NOW, now=NOW)
    assert found == [] and seen == LineView(ahead=1, available=1, first_tier=1)  # `first`, busy
    assert seen == await line.line_view(s.team_id, mine, arrived_at=NOW, now=NOW)
