"""The carrier driver: places callers into the PBX and scripts and observes the members' phones, over AMI.

Every simulated phone's behaviour is stored in the carrier's AstDB before a
call (the carrier dialplan reads it); what happened to each phone and each
caller is learnt from AMI events, stamped with time.monotonic() on arrival.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from panoramisk import Manager

MODES = {"answer", "never", "busy", "decline", "unreachable", "dtmf", "hangup", "voicemail"}


@dataclass
class PhoneCall:
    """One call that reached a simulated member phone."""

    number: str
    uniqueid: str
    mode: str
    caller_id_num: str
    caller_id_name: str
    rang_at: float
    answered_at: float | None = None
    ended_at: float | None = None
    cause: int | None = None
    # Asterisk's text for the cause; for a leg the PBX cancelled, the carrier's Asterisk reads
    # the cause from the CANCEL's Reason header (Q.850;cause=N), so this is what phones show.
    cause_text: str = ""
    dtmf_received: str = ""

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    @property
    def ring_seconds(self) -> float | None:
        end = self.answered_at or self.ended_at
        return None if end is None else end - self.rang_at

    @property
    def connected_seconds(self) -> float | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.answered_at


@dataclass
class CallerLeg:
    """One call the carrier placed into the PBX."""

    uniqueid: str
    team_number: str
    caller_id: str
    sent_at: float
    channel: str | None = None
    ringing_at: float | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    cause: int | None = None
    failed: bool = False
    dtmf_received: str = ""
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def answered(self) -> bool:
        return self.answered_at is not None

    @property
    def connected_seconds(self) -> float | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.answered_at


class Carrier:
    """Drives the carrier instance through AMI and keeps the record of what each phone saw."""

    def __init__(self, host: str, port: int, username: str, secret: str):
        self._manager = Manager(
            host=host, port=port, username=username, secret=secret,
            ping_delay=3600, reconnect_timeout=1, forgetable_actions=("ping", "login"),
        )
        self._phone_calls: dict[str, list[PhoneCall]] = defaultdict(list)
        self._by_uniqueid: dict[str, PhoneCall] = {}
        self._callers: dict[str, CallerLeg] = {}
        self._channels: dict[str, str] = {}  # uniqueid -> channel name
        self._changed = asyncio.Condition()
        # (as the carrier's Asterisk sees it, as the host sees it): set by the bench fixture.
        self.recordings: tuple[str, Path] | None = None

    async def connect(self) -> None:
        self._manager.loop = asyncio.get_running_loop()
        self._manager.register_event("*", self._on_event)
        await asyncio.wait_for(self._manager.connect(), 15)

    def close(self) -> None:
        self._manager.close()

    # -- scripting the phones -------------------------------------------------

    async def set_phone(self, number: str, mode: str, *, delay: float = 0, after: float = 1,
                        digit: str | None = None) -> None:
        """Script how the phone for `number` behaves on its next calls."""
        if mode not in MODES:
            raise ValueError(f"unknown phone mode {mode!r}")
        values = {"mode": mode, "delay": delay, "after": after}
        if digit is not None:
            values["digit"] = digit
        for key, value in values.items():
            await self._action({"Action": "DBPut", "Family": f"phone/{number}", "Key": key, "Val": str(value)})

    async def reset(self) -> None:
        """Forget every phone script and every record (between tests)."""
        await self._manager.send_action({"Action": "DBDelTree", "Family": "phone"})
        self._phone_calls.clear()
        self._by_uniqueid.clear()
        self._callers.clear()

    # -- callers ---------------------------------------------------------------

    async def call(self, team_number: str, caller_id: str = "+31201234567",
                   caller_name: str = "Caller", timeout: float = 120,
                   pbx_address: str | None = None) -> CallerLeg:
        """Place a call into the PBX's team number, as the outside world would.

        `pbx_address` (host:port) sends it to another PBX than the session's, through the same
        trunk endpoint (a second PBX that signals from the PBX's address is the same peer).
        """
        uniqueid = str(uuid.uuid4())
        leg = CallerLeg(uniqueid, team_number, caller_id, time.monotonic())
        self._callers[uniqueid] = leg
        await self._action({
            "Action": "Originate",
            "Channel": (f"PJSIP/pbx/sip:{team_number}@{pbx_address}" if pbx_address
                        else f"PJSIP/{team_number}@pbx"),
            "Context": "caller", "Exten": "s", "Priority": "1",
            "CallerID": f'"{caller_name}" <{caller_id}>',
            "Timeout": str(int(timeout * 1000)),
            "ChannelId": uniqueid,
            "Async": "true",
        })
        return leg

    async def call_recorded(self, team_number: str, caller_id: str = "+31201234567",
                            timeout: float = 120) -> tuple[CallerLeg, Path]:
        """A call into the team number whose every sound is recorded from its first moment,
        early media included (carrier-config [caller-recorded]); returns the leg and where
        the recording is once the call has ended."""
        assert self.recordings is not None, "the bench fixture sets the recordings directory"
        uniqueid = str(uuid.uuid4())
        inner, host = self.recordings
        leg = CallerLeg(uniqueid, team_number, caller_id, time.monotonic())
        self._callers[uniqueid] = leg
        await self._action({
            # A Local channel: its second half records and dials the PBX, so the recording
            # holds what the PBX sends before answer too (a plain originate drops early media).
            "Action": "Originate", "Channel": f"Local/{team_number}@caller-recorded/n",
            "Context": "caller", "Exten": "s", "Priority": "1",
            "CallerID": f'"Caller" <{caller_id}>', "Timeout": str(int(timeout * 1000)),
            "ChannelId": uniqueid, "Variable": f"RECORDING={inner}/{uniqueid}.wav",
            "Async": "true",
        })
        return leg, host / f"{uniqueid}.wav"

    async def hangup_caller(self, leg: CallerLeg) -> None:
        await self._hangup(leg.uniqueid)

    async def hangup_phone(self, call: PhoneCall) -> None:
        await self._hangup(call.uniqueid)

    async def send_dtmf(self, uniqueid: str, digit: str) -> None:
        channel = self._channels[uniqueid]
        await self._action({"Action": "PlayDTMF", "Channel": channel, "Digit": digit, "Duration": "150"})

    async def _hangup(self, uniqueid: str) -> None:
        channel = self._channels.get(uniqueid)
        if channel is None:
            return
        await self._manager.send_action({"Action": "Hangup", "Channel": channel, "Cause": "16"})

    # -- what happened ----------------------------------------------------------

    def phone(self, number: str) -> list[PhoneCall]:
        """Every call that reached `number`, oldest first."""
        return list(self._phone_calls.get(number, []))

    def active_channels(self) -> list[str]:
        return list(self._channels.values())

    async def wait_for(self, predicate, timeout: float = 15.0, what: str = "condition"):
        """Wait until predicate() is truthy (re-checked on every event); return its value."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"carrier: timed out after {timeout} s waiting for {what}")
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    pass

    async def wait_rung(self, number: str, count: int = 1, timeout: float = 15.0) -> PhoneCall:
        calls = await self.wait_for(lambda: len(self.phone(number)) >= count and self.phone(number),
                                    timeout, f"{number} to ring ({count})")
        return calls[count - 1]

    async def wait_idle(self, timeout: float = 15.0) -> None:
        """Wait until the carrier has no channel left (every call ended on both sides)."""
        await self.wait_for(lambda: not self._channels, timeout, f"no channels (left: {self._channels})")

    # -- AMI plumbing -------------------------------------------------------------

    async def _action(self, action: dict) -> None:
        # as_list=False: take the first reply. Otherwise panoramisk holds an async Originate
        # until its OriginateResponse, that is until the call is answered or gives up.
        reply = await self._manager.send_action(action, as_list=False)
        replies = reply if isinstance(reply, list) else [reply]
        if any(r.get("Response") == "Error" for r in replies):
            raise RuntimeError(f"carrier AMI {action['Action']} failed: {replies}")

    async def _on_event(self, _manager, event) -> None:
        now = time.monotonic()
        name = event.get("Event")
        uid = event.get("Uniqueid")
        if name == "Newchannel" and uid:
            self._channels[uid] = event.get("Channel")
        elif name == "UserEvent":
            self._on_user_event(event, now)
        elif name == "Newstate" and uid in self._callers:
            leg = self._callers[uid]
            state = event.get("ChannelState")
            if state == "5" and leg.ringing_at is None:
                leg.ringing_at = now
            elif state == "6" and leg.answered_at is None:
                leg.answered_at = now
        elif name == "DTMFEnd" and uid:
            target = self._callers.get(uid) or self._by_uniqueid.get(uid)
            if target is not None:
                target.dtmf_received += event.get("Digit", "")
        elif name == "OriginateResponse" and event.get("Response") == "Failure":
            leg = self._callers.get(event.get("Uniqueid") or "")
            if leg is not None:
                leg.failed = True
        elif name == "Hangup" and uid:
            self._channels.pop(uid, None)
            cause = _int(event.get("Cause"))
            if uid in self._callers:
                leg = self._callers[uid]
                leg.ended_at, leg.cause = now, cause
                leg.ended.set()
            elif uid in self._by_uniqueid:
                call = self._by_uniqueid[uid]
                call.ended_at, call.cause = now, cause
                call.cause_text = event.get("Cause-txt", "")
        async with self._changed:
            self._changed.notify_all()

    def _on_user_event(self, event, now: float) -> None:
        kind = event.get("UserEvent")
        uid = event.get("Uniqueid")
        if kind == "PhoneRang":
            call = PhoneCall(
                number=event.get("Number"), uniqueid=uid, mode=event.get("Mode") or "never",
                caller_id_num=event.get("CallerIDNum", ""), caller_id_name=event.get("CallerIDName", ""),
                rang_at=now,
            )
            self._phone_calls[call.number].append(call)
            self._by_uniqueid[uid] = call
        elif kind == "PhoneAnswered" and uid in self._by_uniqueid:
            self._by_uniqueid[uid].answered_at = now


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
