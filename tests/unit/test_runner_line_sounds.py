"""The runner carries out what the caller hears: allowed music, stopped for the bridge and the announcement; the greeting."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from teamfoned.domain.team_settings import FallbackPolicy
from teamfoned.routing.model import LineView, TeamRoute
from teamfoned.telephony.caller_prompts import position_announcement
from teamfoned.telephony.runner import CallRunner, RunnerContext
from tests.unit.test_runner_carries_out import ROUTE, Clock, FakeAri, FakeRepo, until

MUSIC = dataclasses.replace(ROUTE, waiting_sound="music", moh_class="calm")


class Line:
    """Every available member busy: the caller waits; `waits` is the team's recent history."""

    def __init__(self, waits: list[float] | None = None) -> None:
        self.waits = waits or []

    async def line_view(self, team_id: uuid.UUID, call_id: uuid.UUID, *, arrived_at: datetime,
                        now: datetime, exclude: Iterable[uuid.UUID] = ()) -> LineView:
        return LineView(ahead=1, available=1)

    async def join_line(self, *a: Any, **k: Any) -> None: pass
    async def leave_line(self, *a: Any, **k: Any) -> None: pass
    async def recent_line_waits(self, team_id: uuid.UUID, *, since: datetime, limit: int) -> list[float]:
        return self.waits[:limit]


class Busy(FakeRepo):
    async def candidates(self, *a: Any, **k: Any) -> list[Any]: return []
    # With a line, the runner reads the candidates and the line together (as Line sees it).
    async def candidates_in_line(self, *a: Any, **k: Any) -> tuple[list[Any], LineView]:
        return [], LineView(ahead=1, available=1)
    async def write_call_row(self, call_id: uuid.UUID) -> None: pass


def runner(repo: FakeRepo, route: TeamRoute, line: Line | None = None,
           classes: tuple[str, ...] = ("default", "calm")) -> tuple[CallRunner, FakeAri]:
    ari = FakeAri()
    ctx = RunnerContext(
        ari=ari, repo=repo, clock=Clock(), node="n1",  # type: ignore[arg-type]
        trunk_template="PJSIP/{number}@trunk", caller_id_mode="caller", confirm_time=10.0,
        register_leg=lambda cid, r: None, forget_channel=lambda cid: None, rng=random.Random(0),
        fallbacks=FallbackPolicy(moh_classes=classes), line=line,  # type: ignore[arg-type]
    )
    inbox: asyncio.Queue[Any] = asyncio.Queue()
    return CallRunner(ctx, {"id": "caller", "caller": {"number": "+31201234567"}}, "3120555100",
                      route, inbox), ari


def order(ari: FakeAri) -> list[str]:
    return [name for name, *_ in ari.calls]


async def test_music_of_the_teams_class_plays_and_stops_before_the_caller_is_bridged() -> None:
    call, ari = runner(FakeRepo(), MUSIC)
    task = asyncio.create_task(call.run())
    await until(lambda: call.legs_by_channel)
    assert ari.named("start_moh") == [(("caller", "calm"), {})] and not ari.named("ring")
    call.inbox.put_nowait({"type": "StasisStart", "channel": {"id": next(iter(call.legs_by_channel))}})
    await until(lambda: ari.named("add_to_bridge"))
    steps = order(ari)
    assert steps.index("stop_moh") < steps.index("add_to_bridge")
    call.inbox.put_nowait({"type": "StasisEnd", "channel": {"id": "caller"}})
    await asyncio.wait_for(task, 5)


async def test_a_class_the_sysadmin_no_longer_allows_plays_the_first_allowed_and_none_rings() -> None:
    call, ari = runner(FakeRepo(), MUSIC, classes=("default",))
    task = asyncio.create_task(call.run())
    await until(lambda: ari.named("start_moh"))
    assert ari.named("start_moh") == [(("caller", "default"), {})]
    call.inbox.put_nowait({"type": "StasisEnd", "channel": {"id": "caller"}})
    await asyncio.wait_for(task, 5)
    call, ari = runner(FakeRepo(), MUSIC, classes=())
    task = asyncio.create_task(call.run())
    await until(lambda: ari.named("ring"))
    assert not ari.named("start_moh")
    call.inbox.put_nowait({"type": "StasisEnd", "channel": {"id": "caller"}})
    await asyncio.wait_for(task, 5)


async def test_music_gives_way_to_the_place_in_the_line_and_comes_back_after_it() -> None:
    route = dataclasses.replace(MUSIC, announce_position_every=30, language="nl")
    call, ari = runner(Busy(), route, Line())
    task = asyncio.create_task(call.run())
    await until(lambda: ari.named("play"))
    steps = order(ari)
    assert steps.index("start_moh") < steps.index("stop_moh") < steps.index("play")
    [(args, _)] = ari.named("play")
    assert args[:2] == ("caller", position_announcement(2))
    # Asterisk reports the end of the announcement's playback: the music comes back.
    call.inbox.put_nowait({"type": "PlaybackFinished", "playback": {
        "id": args[2], "target_uri": "channel:caller", "state": "done"}})
    await until(lambda: len(ari.named("start_moh")) == 2)
    call.inbox.put_nowait({"type": "StasisEnd", "channel": {"id": "caller"}})
    await asyncio.wait_for(task, 5)


async def test_ringing_comes_back_after_the_announcement_too() -> None:
    route = dataclasses.replace(ROUTE, announce_position_every=30)
    call, ari = runner(Busy(), route, Line())
    task = asyncio.create_task(call.run())
    await until(lambda: ari.named("play"))
    rings = len(ari.named("ring"))
    [(args, _)] = ari.named("play")
    call.inbox.put_nowait({"type": "PlaybackFinished", "playback": {"id": args[2]}})
    await until(lambda: len(ari.named("ring")) == rings + 1)
    call.inbox.put_nowait({"type": "StasisEnd", "channel": {"id": "caller"}})
    await asyncio.wait_for(task, 5)


async def test_the_greeting_plays_first_from_the_tenants_directory_then_the_music() -> None:
    route = dataclasses.replace(MUSIC, greeting="welcome")
    call, ari = runner(Busy(), route, Line())
    task = asyncio.create_task(call.run())
    await until(lambda: ari.named("play"))
    [(args, _)] = ari.named("play")
    assert args[:2] == ("caller", f"sound:teamfoned/{route.tenant_id}/welcome")
    assert not ari.named("start_moh") and not ari.named("ring")
    call.inbox.put_nowait({"type": "PlaybackFinished", "playback": {"id": args[2]}})
    await until(lambda: ari.named("start_moh"))
    call.inbox.put_nowait({"type": "StasisEnd", "channel": {"id": "caller"}})
    await asyncio.wait_for(task, 5)


async def test_the_announcement_tells_the_expected_wait_from_the_recent_waits() -> None:
    route = dataclasses.replace(ROUTE, announce_position_every=30, announce_expected_wait=True)
    call, ari = runner(Busy(), route, Line([60, 120, 180, 240, 300]))
    task = asyncio.create_task(call.run())
    await until(lambda: ari.named("play"))
    [(args, _)] = ari.named("play")
    assert args[1] == ("sound:teamfoned/queue-you-are-caller,number:2,sound:queue-holdtime,"
                       "number:3,sound:queue-minutes")
    call.inbox.put_nowait({"type": "StasisEnd", "channel": {"id": "caller"}})
    await asyncio.wait_for(task, 5)


def test_the_announcement_says_one_minute_and_less_than_one_minute() -> None:
    assert position_announcement(1, 1).endswith("number:1,sound:queue-minute")
    assert position_announcement(1, 0).endswith(
        "sound:queue-holdtime,sound:queue-less-than,number:1,sound:queue-minute")
    assert position_announcement(3) == "sound:teamfoned/queue-you-are-caller,number:3"


async def test_the_callback_confirmation_stops_the_music_first() -> None:
    # The caller waits with music and asks to be called back: the confirmation must not play
    # under the music (nor wait behind it).
    route = dataclasses.replace(MUSIC, callback_key="5")
    line = Line()

    async def request_callback(*a: Any, **k: Any) -> None: pass
    line.request_callback = request_callback  # type: ignore[attr-defined]
    call, ari = runner(Busy(), route, line)
    call.caller_number = "+31201234567"
    task = asyncio.create_task(call.run())
    await until(lambda: ari.named("play"))  # the offer; when it has played, the music again
    [(offer, _)] = ari.named("play")
    call.inbox.put_nowait({"type": "PlaybackFinished", "playback": {"id": offer[2]}})
    await until(lambda: len(ari.named("start_moh")) == 2)
    call.inbox.put_nowait({"type": "ChannelDtmfReceived", "channel": {"id": "caller"}, "digit": "5"})
    await until(lambda: len(ari.named("play")) == 2)
    steps = order(ari)
    confirmation = len(steps) - 1 - steps[::-1].index("play")
    last_moh = max(i for i, name in enumerate(steps) if name in ("start_moh", "stop_moh"))
    assert steps[last_moh] == "stop_moh" and last_moh < confirmation, steps
    task.cancel()  # the request would wait on for a member (the daemon stops here)
    await asyncio.gather(task, return_exceptions=True)
