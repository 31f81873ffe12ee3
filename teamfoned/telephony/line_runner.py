"""The availability line over Stasis: the domain's dialogue carried out with ARI playbacks and DTMF events.

The dialogue (teamfoned.domain.availability_line) decides; this file plays, listens and
writes. The dispatcher hands a caller here when they dialled one of the line's numbers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog

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
from teamfoned.domain.errors import Invalid
from teamfoned.domain.names import canonical_number
from teamfoned.domain.prompts import sound
from teamfoned.telephony.ari import AriClient
from teamfoned.telephony.ari_errors import AriError
from teamfoned.telephony.line_prompts import KEY_TIMEOUT_S, LINE_SOUNDS, line_language
from teamfoned.telephony.ports import LineStore

log = structlog.get_logger(__name__)

_GONE = frozenset({"StasisEnd", "ChannelDestroyed", "ChannelHangupRequest"})


class _CallerGone(Exception):
    """The caller hung up: the dialogue ends where it is."""


def line_number(raw: str, default_region: str | None) -> str | None:
    """A dialled number or caller id in the one stored form (E.164), or None when it is none."""
    try:
        return canonical_number(raw, default_region=default_region)
    except Invalid:
        return None


class LineService:
    """The line's numbers and what every line call shares (built once by the daemon)."""

    def __init__(self, ari: AriClient, store: LineStore, *, numbers: tuple[str, ...],
                 clock: Callable[[], datetime], default_region: str | None) -> None:
        self.ari = ari
        self.store = store
        self.numbers = frozenset(numbers)
        self.clock = clock
        self.default_region = default_region

    def serves(self, dialled: str) -> bool:
        return line_number(dialled, None) in self.numbers

    async def run(self, channel: dict[str, Any], inbox: asyncio.Queue[Any]) -> None:
        """One call to the line, until the dialogue ends or the caller hangs up."""
        call = _LineCall(self, channel["id"], inbox)
        caller = (channel.get("caller") or {}).get("number") or ""
        try:
            await call.run(line_number(caller, self.default_region))
        except _CallerGone:
            log.info("availability_line_caller_left", channel=call.channel_id)
        except AriError as exc:
            log.warning("availability_line_failed", channel=call.channel_id, error=str(exc))
        finally:
            try:
                await self.ari.hangup(call.channel_id)
            except AriError:
                pass  # gone already


class _LineCall:
    def __init__(self, service: LineService, channel_id: str, inbox: asyncio.Queue[Any]) -> None:
        self.service = service
        self.channel_id = channel_id
        self.inbox = inbox

    async def run(self, number: str | None) -> None:
        store, clock, ari = self.service.store, self.service.clock, self.service.ari
        matches = await store.line_members(number, now=clock()) if number else []
        line = AvailabilityLine(matches)
        await ari.answer(self.channel_id)
        actions: deque[LineAction] = deque(line.start())
        while actions:
            match actions.popleft():
                case Say(prompts=prompts, language=language):
                    await self._play(prompts, language, collect=0)
                case Ask(prompts=prompts, language=language, max_digits=max_digits):
                    keys = await self._play(prompts, language, collect=max_digits)
                    # A PIN is checked with scrypt, slow on purpose: off the event loop.
                    actions.extend(await asyncio.to_thread(line.keys, keys, now=clock()))
                case SetAvailability(member_id=member_id, tenant_id=tenant_id,
                                     available=available, until=until):
                    await store.set_availability(tenant_id, member_id, available, until, now=clock())
                    log.info("availability_set_by_phone", member=str(member_id), available=available,
                             until=until.isoformat() if until else None, channel=self.channel_id)
                case PinEntered(member_id=member_id, right=right):
                    await store.pin_entered(member_id, right, now=clock())
                    if not right:
                        log.warning("availability_line_wrong_pin", member=str(member_id),
                                    channel=self.channel_id)
                case EndCall(refused=refused):
                    if refused:
                        # Not the caller id, nor the matches: the log tells no more than the line.
                        log.info("availability_line_refused", channel=self.channel_id)
                    return

    async def _play(self, prompts: tuple[LinePrompt, ...], language: str, *, collect: int) -> str:
        """Play `prompts`; with `collect`, return the keys pressed meanwhile and after (up to
        `collect`, ended early by #, or by KEY_TIMEOUT_S without a key)."""
        ari = self.service.ari
        await ari.set_variable(self.channel_id, "CHANNEL(language)", line_language(language))
        # One playback per prompt: Asterisk queues them on the channel in order.
        playbacks = []
        for prompt in prompts:
            playbacks.append(str(uuid.uuid4()))
            await ari.play(self.channel_id, sound(LINE_SOUNDS[prompt]), playbacks[-1])
        playback_id = playbacks[-1]
        loop = asyncio.get_running_loop()
        keys, deadline = "", None
        while True:
            timeout = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                event = await asyncio.wait_for(self.inbox.get(), timeout)
            except TimeoutError:
                return keys
            kind = event.get("type")
            if kind in _GONE:
                raise _CallerGone()
            if kind == "PlaybackFinished" and (event.get("playback") or {}).get("id") == playback_id:
                # The last one: the prompts are over.
                if not collect:
                    return ""
                if deadline is None:
                    deadline = loop.time() + KEY_TIMEOUT_S
            elif kind == "ChannelDtmfReceived" and collect:
                if deadline is None:
                    # The first key: the caller knows what to press, the prompts stop.
                    for playing in playbacks:
                        await ari.stop_playback(playing)
                digit = str(event.get("digit", ""))
                if digit == "#":
                    return keys
                keys += digit
                if len(keys) >= collect:
                    return keys
                deadline = loop.time() + KEY_TIMEOUT_S
