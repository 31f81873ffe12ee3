"""The availability line over FastAGI: the `availability` script speaks the domain's dialogue on the caller's channel."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from datetime import datetime

import structlog

from teamfoned.agi.protocol import AgiRequest, quote
from teamfoned.domain.availability_line import (
    Ask,
    AvailabilityLine,
    EndCall,
    LineAction,
    LinePrompt,
    PinEntered,
    Say,
    SetAvailability,
)
from teamfoned.telephony.line_prompts import KEY_TIMEOUT_S, LINE_SOUNDS, line_language
from teamfoned.telephony.line_runner import line_number
from teamfoned.telephony.ports import LineStore

log = structlog.get_logger(__name__)

# Asterisk replies to a command that plays once the sound has played: our longest prompt
# (the menu) takes well under this; a peer silent for longer is gone.
PLAYING_S = 30.0


async def availability_line(request: AgiRequest, store: LineStore, *,
                            clock: Callable[[], datetime], default_region: str | None) -> None:
    """One call to the line: answer, place the caller, then carry out the dialogue's actions."""
    channel = request.headers.get("agi_uniqueid", "")
    number = line_number(request.headers.get("agi_callerid", ""), default_region)
    matches = await store.line_members(number, now=clock()) if number else []
    line = AvailabilityLine(matches)
    await request.command("ANSWER")
    actions: deque[LineAction] = deque(line.start())
    while actions:
        match actions.popleft():
            case Say(prompts=prompts, language=language):
                await _language(request, language)
                for prompt in prompts:
                    await _play(request, prompt)
            case Ask(prompts=prompts, language=language, max_digits=max_digits):
                await _language(request, language)
                for prompt in prompts[:-1]:
                    await _play(request, prompt)
                reply = await request.command(
                    f"GET DATA {LINE_SOUNDS[prompts[-1]]} {KEY_TIMEOUT_S * 1000} {max_digits}",
                    reply_within=PLAYING_S + KEY_TIMEOUT_S * (max_digits + 1))
                keys = reply.result if reply.ok and reply.result != "-1" else ""
                # A PIN is checked with scrypt, slow on purpose: off the event loop.
                actions.extend(await asyncio.to_thread(line.keys, keys, now=clock()))
            case SetAvailability(member_id=member_id, tenant_id=tenant_id, available=available,
                                 until=until):
                await store.set_availability(tenant_id, member_id, available, until, now=clock())
                log.info("availability_set_by_phone", member=str(member_id), available=available,
                         until=until.isoformat() if until else None, channel=channel)
            case PinEntered(member_id=member_id, right=right):
                await store.pin_entered(member_id, right, now=clock())
                if not right:
                    log.warning("availability_line_wrong_pin", member=str(member_id), channel=channel)
            case EndCall(refused=refused):
                if refused:
                    # Not the caller id, nor the matches: the log must not tell more than the line.
                    log.info("availability_line_refused", channel=channel)
                await request.command("HANGUP")


async def _language(request: AgiRequest, language: str) -> None:
    await request.set_variable("CHANNEL(language)", line_language(language))


async def _play(request: AgiRequest, prompt: LinePrompt) -> None:
    await request.command(f"STREAM FILE {LINE_SOUNDS[prompt]} {quote('')}", reply_within=PLAYING_S)
