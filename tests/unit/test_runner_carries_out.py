"""The call runner carries out what the machine decides: the closed path, auto-unavailable and its one way to the end of a call.

In-memory fakes for ARI and the store; assertions on what reached them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from teamfoned.routing.hours import WeeklyPeriod
from teamfoned.routing.model import Candidate, TeamRoute
from teamfoned.store.resilient_repo import DatabaseUnavailable
from teamfoned.telephony.fallback import CLOSED_CONTEXT, DEFAULT_CONTEXT
from teamfoned.telephony.runner import CallRunner, RunnerContext

MEMBER = uuid.UUID(int=7)
DIALLED = "3120555100"
# 2030-01-01 is a Tuesday; the clock starts at midnight UTC.
START = datetime(2030, 1, 1, tzinfo=UTC)


class FakeAri:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        async def record(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, args, kwargs))
        return record

    def named(self, name: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [(a, k) for n, a, k in self.calls if n == name]


class FakeRepo:
    def __init__(self, *, hours: list[WeeklyPeriod] | None = None, fail_candidates: bool = False) -> None:
        self.writes: Counter[str] = Counter()
        self.marked: list[tuple[uuid.UUID, int]] = []
        self.hours = hours or []
        self.fail_candidates = fail_candidates

    async def start_call(self, *a: Any, **k: Any) -> None: self.writes["start_call"] += 1
    async def opening_hours(self, *a: Any, **k: Any) -> tuple[list[WeeklyPeriod], set[Any]]:
        return self.hours, set()
    async def candidates(self, *a: Any, **k: Any) -> list[Candidate]:
        if self.fail_candidates:
            raise DatabaseUnavailable("database unreachable and no candidates known")
        return [Candidate(member_id=MEMBER, priority=1, idle_since=None, calls_taken=0)]
    async def claim(self, *a: Any, **k: Any) -> bool: return True
    async def member_phone(self, member_id: uuid.UUID) -> tuple[str, str]: return ("e164", "+31610000001")
    async def attempt_ended(self, attempt_id: uuid.UUID, result: str, **k: Any) -> None:
        self.writes[f"attempt_ended:{result}"] += 1
    async def finish_call(self, call_id: uuid.UUID, outcome: str, **k: Any) -> None:
        self.writes[f"finish:{outcome}"] += 1
    async def mark_unavailable_after_misses(self, member_id: uuid.UUID, threshold: int, **k: Any) -> bool:
        self.marked.append((member_id, threshold))
        return True
    async def save_rr_position(self, *a: Any, **k: Any) -> None: pass
    async def attempt_answered(self, *a: Any, **k: Any) -> None: self.writes["attempt_answered"] += 1
    async def call_answered(self, *a: Any, **k: Any) -> None: self.writes["call_answered"] += 1


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=10)
        return self.now


ROUTE = TeamRoute(uuid.uuid4(), uuid.uuid4(), "support", "Support", "linear", 20.0, 60.0, 0.0,
                  False, "dialplan", None, None)


def runner(repo: FakeRepo, route: TeamRoute = ROUTE) -> tuple[CallRunner, FakeAri]:
    ari = FakeAri()
    ctx = RunnerContext(
        ari=ari, repo=repo, clock=Clock(), node="n1",
        trunk_template="PJSIP/{number}@trunk", caller_id_mode="caller", confirm_time=10.0,
        register_leg=lambda cid, r: None, forget_channel=lambda cid: None, rng=random.Random(0),
    )
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    return CallRunner(ctx, {"id": "caller", "caller": {"number": "+31201234567"}}, DIALLED, route, inbox), ari


async def until(condition: Any) -> None:
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0)


async def test_closed_team_goes_to_the_closed_context_and_finishes_through_the_machine() -> None:
    # Open only on Mondays: closed now.
    repo = FakeRepo(hours=[WeeklyPeriod(0, "08:00", "17:00")])
    call, ari = runner(repo)
    task = asyncio.create_task(call.run())
    await until(lambda: ari.named("continue_in_dialplan"))
    [(args, kwargs)] = ari.named("continue_in_dialplan")
    assert args == ("caller",) and kwargs == {"context": CLOSED_CONTEXT, "extension": DIALLED, "priority": 1}
    assert not ari.named("originate") and repo.writes["finish:closed"] == 0
    # The fallback ends when the caller leaves our application, as for every fallback.
    call.inbox.put_nowait({"type": "StasisEnd", "channel": {"id": "caller"}})
    await asyncio.wait_for(task, 5)
    assert repo.writes["finish:closed"] == 1


async def test_unanswered_ring_marks_the_member_when_the_team_sets_a_threshold() -> None:
    repo = FakeRepo()
    call, ari = runner(repo, dataclasses.replace(ROUTE, auto_unavailable_after=2))
    task = asyncio.create_task(call.run())
    await until(lambda: call.legs_by_channel)
    leg = next(iter(call.legs_by_channel))
    call.inbox.put_nowait({"type": "ChannelDestroyed", "channel": {"id": leg}, "cause": 19})
    await until(lambda: repo.marked)
    assert repo.marked == [(MEMBER, 2)] and repo.writes["attempt_ended:no_answer"] == 1
    call.inbox.put_nowait({"type": "StasisEnd", "channel": {"id": "caller"}})
    await asyncio.wait_for(task, 5)


async def test_a_member_who_accepts_during_the_prompt_stops_it_before_joining_the_bridge() -> None:
    # Asterisk would hold the bridge request until the whole prompt had played.
    call, ari = runner(FakeRepo(), dataclasses.replace(ROUTE, confirm_calls=True))
    task = asyncio.create_task(call.run())
    await until(lambda: call.legs_by_channel)
    leg = next(iter(call.legs_by_channel))
    call.inbox.put_nowait({"type": "StasisStart", "channel": {"id": leg}})
    await until(lambda: ari.named("play"))
    [((channel, _prompt, prompt_id), _)] = ari.named("play")
    assert channel == leg and prompt_id
    call.inbox.put_nowait({"type": "ChannelDtmfReceived", "channel": {"id": leg}, "digit": "1"})
    await until(lambda: ari.named("add_to_bridge"))
    assert ari.named("stop_playback") == [((prompt_id,), {})]
    order = [name for name, _, _ in ari.calls]
    assert order.index("stop_playback") < order.index("add_to_bridge")
    call.inbox.put_nowait({"type": "StasisEnd", "channel": {"id": "caller"}})
    await asyncio.wait_for(task, 5)
    assert len(ari.named("stop_playback")) == 1


async def test_database_away_sends_the_caller_to_the_shipped_fallback_once() -> None:
    repo = FakeRepo(fail_candidates=True)
    call, ari = runner(repo)
    await asyncio.wait_for(call.run(), 5)
    [(args, kwargs)] = ari.named("continue_in_dialplan")
    assert args == ("caller",) and kwargs == {"context": DEFAULT_CONTEXT, "extension": DIALLED, "priority": 1}
    assert sum(v for k, v in repo.writes.items() if k.startswith("finish:")) == 1
    assert repo.writes["finish:fallback"] == 1


async def test_daemon_stopping_while_a_member_rings_ends_the_leg_and_the_call_failed() -> None:
    repo = FakeRepo()
    call, ari = runner(repo)
    task = asyncio.create_task(call.run())
    await until(lambda: call.legs_by_channel)
    leg = next(iter(call.legs_by_channel))
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    assert ((leg,), {}) in ari.named("hangup")
    assert repo.writes["attempt_ended:failed"] == 1
    assert repo.writes["finish:failed"] == 1
    assert [k for _, k in ari.named("continue_in_dialplan")] == [
        {"context": DEFAULT_CONTEXT, "extension": DIALLED, "priority": 1}]


async def test_the_member_is_dialled_while_the_callers_ring_is_on_its_way_and_the_bridge_waits_for_it() -> None:
    # The dispatcher sends the caller's ring and hands the runner its pending request: the
    # member's leg must not wait for it, but nothing done to the caller may overtake it.
    ring_sent = asyncio.Event()

    async def ring() -> None:
        await ring_sent.wait()

    repo = FakeRepo()
    call, ari = runner(repo)
    pending = asyncio.ensure_future(ring())
    call = CallRunner(call.ctx, {"id": "caller", "caller": {"number": "+31201234567"}}, DIALLED, ROUTE,
                      call.inbox, caller_ringing=True, caller_ring=pending)
    task = asyncio.create_task(call.run())
    await until(lambda: ari.named("originate"))
    leg = next(iter(call.legs_by_channel))
    call.inbox.put_nowait({"type": "StasisStart", "channel": {"id": leg}})  # the member answers
    await until(lambda: repo.writes["call_answered"])
    for _ in range(20):
        await asyncio.sleep(0)
    assert not ari.named("answer") and not ari.named("add_to_bridge")  # held for the ring
    ring_sent.set()
    await until(lambda: ari.named("add_to_bridge"))
    assert ari.named("answer") == [(("caller",), {})]
    call.inbox.put_nowait({"type": "StasisEnd", "channel": {"id": "caller"}})
    await asyncio.wait_for(task, 5)
