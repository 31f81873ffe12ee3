"""The call runner under every allowed order of StasisEnd, ChannelDestroyed and ChannelLeftBridge, with duplicates.

A bridged call ends with some of these for the caller and the member, in any
order, some twice, with unknown events between them: the record is closed
exactly once as answered, the member's attempt once, and nothing stays open.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from teamfoned.routing.model import Candidate, TeamRoute
from teamfoned.telephony.runner import CallRunner, RunnerContext
from tests.fakes import CountingStore

MEMBER = uuid.UUID(int=7)
ENDINGS = ("StasisEnd", "ChannelDestroyed", "ChannelLeftBridge")


class FakeAri:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __getattr__(self, name):
        async def record(*args, **kwargs):
            self.calls.append((name, args, kwargs))
        return record


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=10)
        return self.now


ROUTE = TeamRoute(uuid.uuid4(), uuid.uuid4(), "support", "Support", "linear", 20.0, 60.0, 0.0,
                  False, "dialplan", None, None)


async def bridged_call(extra_events):
    ari = FakeAri()
    repo = CountingStore([Candidate(member_id=MEMBER, priority=1, idle_since=None, calls_taken=0)])
    registered: dict[str, object] = {}
    fields = {
        "ari": ari, "repo": repo, "clock": Clock(), "node": "n1", "trunk_template": "PJSIP/{number}@trunk",
        "caller_id_mode": "caller", "register_leg": lambda cid, r: registered.setdefault(cid, r),
        "forget_channel": lambda cid: registered.pop(cid, None), "rng": random.Random(0), "confirm_time": 10.0,
    }
    # Only what this version's context takes (other parts of the runner grow it).
    ctx = RunnerContext(**{f.name: fields[f.name] for f in dataclasses.fields(RunnerContext) if f.name in fields})
    inbox: asyncio.Queue = asyncio.Queue()
    runner = CallRunner(ctx, {"id": "caller", "caller": {"number": "+31201234567"}}, "3120555100", ROUTE, inbox)
    task = asyncio.create_task(runner.run())
    async with asyncio.timeout(5):
        while not runner.legs_by_channel:
            await asyncio.sleep(0)
        leg = next(iter(runner.legs_by_channel))
        inbox.put_nowait({"type": "ChannelStateChange", "channel": {"id": leg, "state": "Ringing"}})
        inbox.put_nowait({"type": "StasisStart", "channel": {"id": leg}})
        while runner.bridge_id is None:
            await asyncio.sleep(0)
        names = {"caller": "caller", "member": leg}
        for who, kind in extra_events:
            inbox.put_nowait({"type": kind, "channel": {"id": names[who]}, "cause": 16})
        await task
    return repo, ari


ORDERS = list(itertools.permutations([(w, k) for w in ("caller", "member") for k in ENDINGS]))


@pytest.mark.parametrize("order", random.Random(6).sample(ORDERS, 60) + [ORDERS[0], ORDERS[-1]])
async def test_bridged_call_ends_once_whatever_the_order(order):
    # Duplicates and unknown events mixed in.
    events = list(order) + [order[0], ("caller", "SomethingNew"), ("member", "StasisEnd")]
    repo, ari = await bridged_call(events)
    assert repo.writes["finish:answered"] == 1
    assert repo.writes["attempt_ended:answered"] == 1
    assert sum(v for k, v in repo.writes.items() if k.startswith("finish:")) == 1
    assert repo.open_attempts == set()  # the member is not left busy
    assert any(name == "destroy_bridge" for name, _, _ in ari.calls)


@pytest.mark.parametrize("who", ["caller", "member"])
async def test_only_left_bridge_ends_nothing_until_a_real_end(who):
    # ChannelLeftBridge alone is not an end (our own bridge changes send it); the end follows.
    repo, _ = await bridged_call([(who, "ChannelLeftBridge"), (who, "ChannelLeftBridge"),
                                  (who, "ChannelDestroyed")])
    assert repo.writes["finish:answered"] == 1 and repo.open_attempts == set()
