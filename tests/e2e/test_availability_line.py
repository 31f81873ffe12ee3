"""The availability line with real SIP calls: a member calls the service number from their phone and presses a key."""

import asyncio
import re

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select

from teamfoned.api.context import system_clock as now
from teamfoned.domain.availability_line import LinePrompt
from teamfoned.store.engine import create_sessionmaker
from teamfoned.store.tables import member_phone_line
from teamfoned.store.tokens_repo import create_token
from teamfoned.telephony.line_prompts import LINE_SOUNDS

from .routing_bench import PHONES, TEAM_NUMBER, RoutingBench, directory

pytestmark = pytest.mark.e2e

# The line's number over each path: the bench's trunk sends the first into the FastAGI
# dialplan (tests/bench/topology.py), the second into Stasis() like any team number.
LINE_NUMBERS = {"agi": "3120555300", "stasis": "3120555500"}


@pytest.fixture(params=sorted(LINE_NUMBERS))
def number(request) -> str:
    return LINE_NUMBERS[request.param]


@pytest_asyncio.fixture(loop_scope="session")
async def line(pbx, carrier, tmp_path):
    bench = RoutingBench(pbx, carrier, tmp_path)
    bench.agi = True
    bench.extra_settings = {"availability_line": {"numbers": [f"+{n}" for n in LINE_NUMBERS.values()]}}
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


async def line_call(carrier, number: str, caller: str, keys: str = "", *, after: float = 2.5):
    leg = await carrier.call(number, caller_id=caller)
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


async def test_press_3_and_the_next_team_call_skips_you_press_1_and_it_rings_you(line, carrier, number):
    await line.setup(directory(team_members=("alice", "bob"), available=("alice", "bob")))
    for name in ("alice", "bob"):
        await carrier.set_phone(PHONES[name], "never")
    await line_call(carrier, number, PHONES["alice"], "3")
    assert (await line.availability_of("alice")).available is False
    assert await team_call_rings(line, carrier, 1) == ["bob"]

    await line_call(carrier, number, PHONES["alice"], "1")
    state = await line.availability_of("alice")
    assert state.available is True and state.until is None
    assert await team_call_rings(line, carrier, 2) == ["alice"]
    await line.assert_clean()


@pytest.mark.parametrize("number", [LINE_NUMBERS["agi"]])  # the rule is the dialogue's: one path
async def test_press_2_is_available_until_the_end_of_the_day(line, carrier, number):
    await line.setup(directory(available=()))
    await line_call(carrier, number, PHONES["alice"], "2")
    state = await line.availability_of("alice")
    assert state.available is True and state.until is not None
    # The team's zone is UTC in this directory: the next midnight there.
    assert (state.until.hour, state.until.minute) == (0, 0)
    assert state.until > now()


def played(pbx, *, languages: bool = False) -> list:
    """Every sound the PBX has played this session, in order (from its messages log)."""
    text = (pbx.instance.base / "log" / "messages.log").read_text(errors="replace")
    found = re.findall(r"Playing '([^']+)'[^\n]*?\(language '([^']+)'\)", text)
    return found if languages else [name for name, _ in found]


async def test_an_unknown_caller_id_is_refused_and_hears_only_goodbye(line, carrier, number, pbx):
    await line.setup(directory(available=("alice",)))
    before = {name: (await line.availability_of(name)).available for name in PHONES}
    heard_before = len(played(pbx))
    leg = await line_call(carrier, number, "+31699999999", "3", after=0.5)
    assert leg.answered
    # Nothing about any member: no PIN prompt, no status, only the goodbye.
    assert [sound.split(".")[0] for sound in played(pbx)[heard_before:]] == [LINE_SOUNDS[LinePrompt.GOODBYE]]
    after = {name: (await line.availability_of(name)).available for name in PHONES}
    assert after == before
    await line.assert_clean()


async def set_pin(line, name: str, pin: str, language: str | None = None) -> None:
    """The member sets their PIN over the daemon's own HTTP API, as they would."""
    member = {v: k for k, v in (await line.member_names()).items()}[name]
    async with create_sessionmaker(line.engine)() as session, session.begin():
        _, token = await create_token(session, line.tenant_id, member, now=now(), label="e2e")
    async with httpx.AsyncClient(base_url=line.http_url, timeout=5) as http:
        refused = await http.put("/v1/me/phone-line", json={"pin": "12a4"},
                                 headers={"Authorization": f"Bearer {token}"})
        assert refused.status_code == 422 and "pin" in refused.text
        done = await http.put("/v1/me/phone-line", json={"pin": pin, "language": language},
                              headers={"Authorization": f"Bearer {token}"})
        assert done.status_code == 204, done.text


async def wrong_pins(line) -> dict[str, int]:
    names = await line.member_names()
    async with create_sessionmaker(line.engine)() as session:
        rows = (await session.execute(select(member_phone_line))).all()
    return {names[r.member_id]: r.pin_failures for r in rows}


def pin_directory(**kwargs):
    doc = directory(**kwargs)
    doc["tenants"][0]["phone_pin_required"] = True
    return doc


@pytest.mark.parametrize("number", [LINE_NUMBERS["stasis"]])  # the wrong PIN runs on both paths
async def test_with_a_pin_required_the_right_pin_lets_the_member_in_in_their_language(
        line, carrier, number, pbx):
    await line.setup(pin_directory(available=("alice",)))
    await set_pin(line, "alice", "4826", language="nl")
    heard_before = len(played(pbx))
    leg = await carrier.call(number, caller_id=PHONES["alice"])
    await carrier.wait_for(lambda: leg.answered, 10, "the line to answer")
    await press(carrier, leg, "4826#", after=1.0)
    await press(carrier, leg, "3", after=2.5)
    await asyncio.wait_for(leg.ended.wait(), 30)
    assert (await line.availability_of("alice")).available is False
    assert await wrong_pins(line) == {"alice": 0}
    # Dutch, from the generated set: the status, the menu and what changed.
    heard = [(name.split(".")[0], lang) for name, lang in played(pbx, languages=True)[heard_before:]]
    for prompt in (LinePrompt.ENTER_PIN, LinePrompt.CURRENTLY_AVAILABLE, LinePrompt.MENU,
                   LinePrompt.NOW_UNAVAILABLE):
        assert (LINE_SOUNDS[prompt], "nl") in heard


async def test_a_wrong_pin_three_times_ends_the_call_and_is_counted(line, carrier, number, pbx):
    await line.setup(pin_directory(available=("alice",)))
    await set_pin(line, "alice", "4826")
    heard_before = len(played(pbx))
    leg = await carrier.call(number, caller_id=PHONES["alice"])
    await carrier.wait_for(lambda: leg.answered, 10, "the line to answer")
    await press(carrier, leg, "1111#", after=1.0)
    for _ in range(2):
        await press(carrier, leg, "2222#", after=2.0)  # after "incorrect", the PIN prompt again
    await asyncio.wait_for(leg.ended.wait(), 30)
    assert (await line.availability_of("alice")).available is True  # nothing changed
    assert await wrong_pins(line) == {"alice": 3}
    # Never the member's status: only the PIN prompts, the refusals and the goodbye.
    heard = {sound.split(".")[0] for sound in played(pbx)[heard_before:]}
    assert heard == {LINE_SOUNDS[p] for p in (LinePrompt.ENTER_PIN, LinePrompt.PIN_WRONG,
                                              LinePrompt.GOODBYE)}
    await line.assert_clean()
