"""The availability line with real SIP calls: a member calls the service number from their phone and presses a key."""

import asyncio
import re

import pytest
import pytest_asyncio

from teamfoned.api.context import system_clock as now
from teamfoned.domain.availability_line import LinePrompt
from teamfoned.telephony.line_prompts import LINE_SOUNDS

from .routing_bench import PHONES, TEAM_NUMBER, RoutingBench, directory

pytestmark = pytest.mark.e2e

# Routed by the bench's trunk into the FastAGI dialplan (tests/bench/topology.py).
LINE_NUMBER = "3120555300"


@pytest_asyncio.fixture(loop_scope="session")
async def line(pbx, carrier, tmp_path):
    bench = RoutingBench(pbx, carrier, tmp_path)
    bench.agi = True
    bench.extra_settings = {"availability_line": {"numbers": [f"+{LINE_NUMBER}"]}}
    try:
        yield bench
    finally:
        await bench.stop()


async def press(carrier, leg, keys: str, *, after: float) -> None:
    """Wait `after` seconds (the prompts before the key is listened for), then press `keys`."""
    await asyncio.sleep(after)
    for key in keys:
        if leg.ended.is_set():
            return  # the line hung up first
        await carrier.send_dtmf(leg.uniqueid, key)
        await asyncio.sleep(0.3)


async def line_call(carrier, caller: str, keys: str = "", *, after: float = 2.5):
    leg = await carrier.call(LINE_NUMBER, caller_id=caller)
    await carrier.wait_for(lambda: leg.answered, 10, "the line to answer")
    if keys:
        await press(carrier, leg, keys, after=after)
    await asyncio.wait_for(leg.ended.wait(), 30)
    return leg


async def team_call_rings(line, carrier, count: int) -> list[str]:
    """Place a team call, let it ring the first member, hang up: who rang."""
    before = {n: len(carrier.phone(p)) for n, p in PHONES.items()}
    leg = await carrier.call(TEAM_NUMBER)
    await carrier.wait_for(lambda: any(len(carrier.phone(p)) > before[n] for n, p in PHONES.items()),
                           10, "a member to ring")
    await carrier.hangup_caller(leg)
    await line.wait_calls_finished(count)
    await carrier.wait_idle()
    return [n for n, p in PHONES.items() if len(carrier.phone(p)) > before[n]]


async def test_press_3_and_the_next_team_call_skips_you_press_1_and_it_rings_you(line, carrier):
    await line.setup(directory(team_members=("alice", "bob"), available=("alice", "bob")))
    for name in ("alice", "bob"):
        await carrier.set_phone(PHONES[name], "never")
    await line_call(carrier, PHONES["alice"], "3")
    assert (await line.availability_of("alice")).available is False
    assert await team_call_rings(line, carrier, 1) == ["bob"]

    await line_call(carrier, PHONES["alice"], "1")
    state = await line.availability_of("alice")
    assert state.available is True and state.until is None
    assert await team_call_rings(line, carrier, 2) == ["alice"]
    await line.assert_clean()


async def test_press_2_is_available_until_the_end_of_the_day(line, carrier):
    await line.setup(directory(available=()))
    await line_call(carrier, PHONES["alice"], "2")
    state = await line.availability_of("alice")
    assert state.available is True and state.until is not None
    # The team's zone is UTC in this directory: the next midnight there.
    assert (state.until.hour, state.until.minute) == (0, 0)
    assert state.until > now()


def played(pbx) -> list[str]:
    """Every sound the PBX has played this session, in order (from its messages log)."""
    text = (pbx.instance.base / "log" / "messages.log").read_text(errors="replace")
    return re.findall(r"Playing '([^']+)'", text)


async def test_an_unknown_caller_id_is_refused_and_hears_only_goodbye(line, carrier, pbx):
    await line.setup(directory(available=("alice",)))
    before = {name: (await line.availability_of(name)).available for name in PHONES}
    heard_before = len(played(pbx))
    leg = await line_call(carrier, "+31699999999", "3", after=0.5)
    assert leg.answered
    # Nothing about any member: no PIN prompt, no status, only the goodbye.
    assert [sound.split(".")[0] for sound in played(pbx)[heard_before:]] == [LINE_SOUNDS[LinePrompt.GOODBYE]]
    after = {name: (await line.availability_of(name)).available for name in PHONES}
    assert after == before
    await line.assert_clean()
