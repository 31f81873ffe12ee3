"""What a waiting caller hears, from their side: the greeting, their place in the line and the music, in that order.

The carrier records the call from its first moment, early media included.

The PBX's music-on-hold class plays one known tone and the greeting is another (tests/bench/
media.py); the recording is read frame by frame. Asterisk's own log shows the music stop before
the caller joins the member's bridge.
"""

import asyncio
import re
import shutil

import pytest

from teamfoned.telephony.sound_set import DEFAULT_SOUNDS_DIR
from tests.bench.media import BENCH_MOH_CLASS, MUSIC_HZ, heard, seconds_of, write_tone

from .routing_bench import PHONES, TEAM_NUMBER, directory

pytestmark = pytest.mark.e2e

GREETING_HZ = 600
GREETING_SECONDS = 1.5
# Seconds between position announcements: shorter than a team may set (10), so the music is
# heard between two of them within a short test.
EVERY = 6


async def test_greeting_then_place_in_line_then_music_that_gives_way_to_the_next_announcement(
        routing, carrier, pbx):
    await routing.setup(directory(max_wait=30, team_members=("alice",), available=()))
    sounds = pbx.instance.installation.host_path(str(DEFAULT_SOUNDS_DIR)) / "nl"
    # The tenant's own greeting, in its sound directory (as the sysadmin fills it).
    tenant_sounds = sounds / "teamfoned" / str(routing.tenant_id)
    write_tone(tenant_sounds / "welcome.wav", GREETING_HZ, GREETING_SECONDS)
    try:
        # Nobody available yet, and the team waits for members to come on duty.
        await routing.update_team(wait_when_none_available=True, waiting_sound="music",
                                  moh_class=BENCH_MOH_CLASS, greeting="welcome",
                                  announce_position_every=EVERY, language="nl")
        await carrier.set_phone(PHONES["alice"], "answer", delay=0.3)
        mark = pbx.instance.log_mark()
        leg, recording = await carrier.call_recorded(TEAM_NUMBER)
        # Greeting, place, music, place again (at EVERY s), music again.
        await asyncio.sleep(EVERY + 4)
        assert not leg.answered  # all of it early media: the caller is not answered by it
        await routing.set_available("alice", True)
        await carrier.wait_for(lambda: leg.answered, 10, "alice to take the waiting caller")
        await asyncio.sleep(1)
        await carrier.hangup_caller(leg)
        [call] = await routing.wait_calls_finished(1)
        assert call.outcome == "answered" and call.answered_by == "alice"
        await routing.assert_clean()
        await carrier.wait_idle()
    finally:
        shutil.rmtree(tenant_sounds, ignore_errors=True)

    runs = heard(recording, {"greeting": GREETING_HZ, "music": MUSIC_HZ})
    labels = [run.label for run in runs]
    assert labels[:5] == ["greeting", "sound", "music", "sound", "music"], runs
    greeting, place, music, place_again, _ = runs[:5]
    assert abs(greeting.seconds - GREETING_SECONDS) < 0.3, runs
    # "U bent beller nummer" and "een": the announcement's own sound files, as long as they play.
    announcement = (seconds_of(sounds / "teamfoned" / "queue-you-are-caller.wav")
                    + seconds_of(sounds / "digits" / "1.wav"))
    for said in (place, place_again):
        assert announcement * 0.5 <= said.seconds <= announcement + 0.5, (said, announcement)
    assert music.seconds > 1, runs

    # Asterisk's own account: the bench class started on the caller's channel (after each
    # announcement), and the music stopped before the caller joined alice's bridge.
    log = "\n".join(pbx.instance.logged_since(mark))
    started = re.findall(rf"Started music on hold, class '{BENCH_MOH_CLASS}', on channel '([^']+)'", log)
    assert len(started) >= 2 and len(set(started)) == 1, log[-3000:]
    caller = started[0]
    joined = log.index(f"Channel {caller} joined")
    assert log.rindex(f"Stopped music on hold on {caller}", 0, joined) < joined
    in_bridge = log[joined:].split(f"Channel {caller} left")[0]
    assert "Started music on hold" not in in_bridge
