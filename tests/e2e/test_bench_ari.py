"""The bench end to end: real SIP calls between the carrier and the PBX, seen through our ARI client."""

import asyncio
import re
import time
import uuid

import pytest
import pytest_asyncio

from teamfoned.routing.model import TeamRoute
from teamfoned.telephony.ari import AriClient
from teamfoned.telephony.prompts import confirmation_prompt

pytestmark = pytest.mark.e2e


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def ari(pbx):
    # One connection for the module: tearing the Stasis app down and up between tests races
    # with channels that fail within milliseconds of their originate (seen with a 404).
    client = AriClient(pbx.ari_url, pbx.ari_user, pbx.ari_password, pbx.app,
                       heartbeat=1.0, reconnect_min=0.2, reconnect_max=1.0)
    runner = asyncio.create_task(client.run())
    await asyncio.wait_for(client.wait_connected(), 10)
    try:
        yield client
    finally:
        await client.close()
        await runner


async def next_event(ari, kind, timeout=10.0, **match):
    async def find():
        async for event in ari.events():
            if event.get("type") == kind and all(
                _dig(event, key) == value for key, value in match.items()
            ):
                return event
    return await asyncio.wait_for(find(), timeout)


def _dig(event, dotted):
    value = event
    for part in dotted.split("__"):
        value = value.get(part) if isinstance(value, dict) else None
    return value


async def test_incoming_call_enters_stasis_is_answered_and_hung_up(ari, carrier):
    leg = await carrier.call("3120555001", caller_id="+31612345678")
    start = await next_event(ari, "StasisStart")
    channel = start["channel"]
    assert start["args"] == ["3120555001"]
    assert channel["caller"]["number"] == "+31612345678"

    await ari.answer(channel["id"])
    await carrier.wait_for(lambda: leg.answered, 5, "the caller leg to be answered")
    await asyncio.sleep(0.5)
    await ari.hangup(channel["id"])
    await next_event(ari, "StasisEnd", channel__id=channel["id"])
    await carrier.wait_for(lambda: leg.ended_at is not None, 5, "the caller leg to end")
    assert leg.connected_seconds >= 0.4
    await carrier.wait_idle()
    assert (await ari.get_application())["channel_ids"] == []


@pytest.mark.parametrize(
    ("mode", "options", "answered", "causes"),
    [
        ("answer", {"delay": 1}, True, {16}),
        ("busy", {}, False, {17}),
        ("decline", {}, False, {21}),
        ("unreachable", {}, False, {1}),
        ("hangup", {"delay": 0, "after": 1}, True, {16}),
        ("voicemail", {}, True, {16}),
    ],
)
async def test_scripted_phones_behave_as_told(ari, carrier, mode, options, answered, causes):
    number = f"316{uuid.uuid4().int % 10**8:08d}"
    await carrier.set_phone(number, mode, **options)
    channel_id = str(uuid.uuid4())
    await ari.originate(f"PJSIP/{number}@trunk", channel_id=channel_id, timeout=10)
    call = await carrier.wait_rung(number)
    if answered:
        await next_event(ari, "StasisStart", channel__id=channel_id)
        # The phone's AMI report may trail the SIP 200 OK that ARI reported.
        await carrier.wait_for(lambda: call.answered, 5, f"{number} to report its answer")
        if mode == "hangup":
            end = await next_event(ari, "ChannelDestroyed", timeout=5, channel__id=channel_id)
        else:
            await asyncio.sleep(0.3)
            await ari.hangup(channel_id)
            end = await next_event(ari, "ChannelDestroyed", channel__id=channel_id)
    else:
        end = await next_event(ari, "ChannelDestroyed", channel__id=channel_id)
        assert not call.answered
    assert end["cause"] in causes, end
    await carrier.wait_idle()


async def test_phone_that_never_answers_rings_until_we_stop(ari, carrier):
    number = "31699990000"
    await carrier.set_phone(number, "never")
    channel_id = str(uuid.uuid4())
    await ari.originate(f"PJSIP/{number}@trunk", channel_id=channel_id, timeout=30)
    call = await carrier.wait_rung(number)
    await asyncio.sleep(1.0)
    await ari.hangup(channel_id)
    await carrier.wait_for(lambda: call.ended, 5, "the phone to stop ringing")
    assert not call.answered and call.ring_seconds >= 0.9


async def test_phone_sends_dtmf_after_answering(ari, carrier):
    number = "31699990001"
    await carrier.set_phone(number, "dtmf", delay=0, after=0.5, digit="1")
    channel_id = str(uuid.uuid4())
    await ari.originate(f"PJSIP/{number}@trunk", channel_id=channel_id, timeout=10)
    await next_event(ari, "StasisStart", channel__id=channel_id)
    dtmf = await next_event(ari, "ChannelDtmfReceived", channel__id=channel_id)
    assert dtmf["digit"] == "1"
    await ari.hangup(channel_id)
    await carrier.wait_idle()


async def test_client_reconnects_by_itself_after_pbx_restart(ari, pbx, carrier):
    before = ari.reconnects
    started = time.monotonic()
    await asyncio.to_thread(pbx.instance.restart)
    await asyncio.wait_for(_until(lambda: ari.reconnects > before and ari.is_connected), 20)
    reconnect_seconds = time.monotonic() - started
    print(f"ARI reconnected {reconnect_seconds:.2f} s after the PBX restart began")
    # And it works: a new call reaches the app on the new connection.
    leg = await carrier.call("3120555002")
    start = await next_event(ari, "StasisStart")
    await ari.hangup(start["channel"]["id"])
    await carrier.wait_for(lambda: leg.ended_at is not None, 5, "the caller leg to end")


async def _until(predicate, interval=0.05):
    while not predicate():
        await asyncio.sleep(interval)



async def _play_in_dutch(ari, carrier, *media):
    """Play each media URI in turn on a caller's channel whose language is nl; their
    PlaybackFinished events."""
    leg = await carrier.call("3120555009")
    channel = (await next_event(ari, "StasisStart"))["channel"]
    finished = []
    try:
        await ari.answer(channel["id"])
        await ari.set_variable(channel["id"], "CHANNEL(language)", "nl")
        for uri in media:
            playback_id = str(uuid.uuid4())
            await ari.play(channel["id"], uri, playback_id)
            finished.append((await next_event(ari, "PlaybackFinished", 20, playback__id=playback_id))["playback"])
    finally:
        await ari.hangup(channel["id"])
        await carrier.wait_for(lambda: leg.ended_at is not None, 5, "the caller leg to end")
    return finished


async def test_the_generated_dutch_prompts_play(ari, carrier):
    # A prompt only the generated set has (English has no such file), and a number Asterisk's
    # Dutch rules say from it: 21 is digits/1, digits/nl-en (only in the Dutch set), digits/20.
    played = await _play_in_dutch(ari, carrier, "sound:teamfoned/queue-you-are-caller", "number:21")
    assert [(p["language"], p["state"]) for p in played] == [("nl", "done"), ("nl", "done")]


async def test_a_missing_prompt_fails_to_play(ari, carrier):
    [played] = await _play_in_dutch(ari, carrier, "sound:teamfoned/no-such-prompt")
    assert played["state"] == "failed"


async def _play_to_a_member(ari, carrier, pbx, media, language):
    """Play `media` on an answered member leg, as the daemon does before the member presses
    1: every event of that playback in order, up to its PlaybackFinished, and what the PBX
    logged meanwhile."""
    number = f"316{uuid.uuid4().int % 10**8:08d}"
    await carrier.set_phone(number, "answer", delay=0, after=30)
    mark = pbx.instance.log_mark()
    channel_id = str(uuid.uuid4())
    await ari.originate(f"PJSIP/{number}@trunk", channel_id=channel_id, timeout=5)
    seen = []
    try:
        channel = (await next_event(ari, "StasisStart", channel__id=channel_id))["channel"]
        await ari.set_variable(channel_id, "CHANNEL(language)", language)
        playback_id = str(uuid.uuid4())

        async def until_finished():
            async for event in ari.events():
                if _dig(event, "playback__id") == playback_id:
                    seen.append(event)
                    if event["type"] == "PlaybackFinished":
                        return

        # Listening before the POST: the first events can arrive before it returns.
        watch = asyncio.create_task(asyncio.wait_for(until_finished(), 30))
        await ari.play(channel_id, media, playback_id)
        await watch
    finally:
        await ari.hangup(channel_id)
        await carrier.wait_idle()
    return seen, channel, pbx.instance.logged_since(mark)


@pytest.mark.parametrize("language", ["en", "nl"])
async def test_the_confirmation_prompt_plays_every_item(ari, carrier, pbx, language):
    route = TeamRoute(uuid.uuid4(), uuid.uuid4(), "support", "Support", "linear", 5.0, 30.0, 0.0,
                      True, "dialplan", None, None)
    # A short team number (a Dutch 14 number): the digits are said one by one, and every
    # extra one only lengthens the test.
    prompt = confirmation_prompt(route, "14020", "1")
    items = prompt.split(",")
    assert len(items) > 2, prompt  # a media list: the case that failed
    events, channel, logged = await _play_to_a_member(ari, carrier, pbx, prompt, language)

    # ARI reports each item of a list: started, then continuing to the next, the last one finished.
    expected = []
    for n, item in enumerate(items):
        last = n == len(items) - 1
        expected += [("PlaybackStarted", item, "playing"),
                     ("PlaybackFinished", item, "done") if last else ("PlaybackContinuing", item, "continuing")]
    assert [(e["type"], e["playback"]["media_uri"], e["playback"]["state"]) for e in events] == expected
    assert {e["playback"]["language"] for e in events} == {language}
    # An item that cannot play is still reported "continuing" when another follows it: only the
    # PBX says so, and which sound files it opened on this channel, in order.
    assert not [line for line in logged if f"{channel['id']}: Playback failed" in line]
    opened = [m.group(1) for line in logged
              if (m := re.search(rf"<{re.escape(channel['name'])}> Playing '([^']+)\.\w+'", line))]
    assert opened == [f for item in items for f in _files_of(item)], logged


def _files_of(item):
    """The sound files Asterisk opens for a sound: or digits: media URI."""
    scheme, _, value = item.partition(":")
    return [value] if scheme == "sound" else [f"digits/{d}" for d in value]
