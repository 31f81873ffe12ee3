"""What to do with each call this node left open, given what Asterisk still holds: a pure decision, no I/O.

After a daemon restart (or a reconnect), the store says which calls of this node
have no outcome yet and which of their attempts are open; Asterisk says which
channels exist, which of them are in our Stasis app, and which bridges hold
which channels. `plan_resync` turns both pictures into actions that put every
call back under control or end it cleanly: a talking pair is adopted, a caller
still waiting goes to the fallback (never silence), every other leg is hung
up, and every record gets exactly one closing write.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from teamfoned.routing.model import AttemptResult, CallOutcome, OpenAttempt, OpenCallState


@dataclass(frozen=True, slots=True)
class Adopt:
    """Caller and member still talk in our bridge: watch the pair until one side ends."""

    call: OpenCallState
    attempt: OpenAttempt
    bridge_id: str


@dataclass(frozen=True, slots=True)
class HangupChannel:
    channel_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class CallerToFallback:
    """A caller still waiting in our app: continue it in the dialplan fallback."""

    channel_id: str
    extension: str


@dataclass(frozen=True, slots=True)
class DestroyBridge:
    bridge_id: str


@dataclass(frozen=True, slots=True)
class CloseAttempt:
    attempt_id: uuid.UUID
    result: AttemptResult


@dataclass(frozen=True, slots=True)
class CloseCall:
    call_id: uuid.UUID
    outcome: CallOutcome
    wait_seconds: float | None
    talk_seconds: float | None


@dataclass(frozen=True, slots=True)
class ResumeCallback:
    """A callback request this node took and nothing runs: it goes on from its place."""

    call: OpenCallState


ResyncAction = (Adopt | HangupChannel | CallerToFallback | DestroyBridge | CloseAttempt | CloseCall
                | ResumeCallback)


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def plan_resync(
    open_calls: Iterable[OpenCallState],
    *,
    channels: Iterable[str],
    in_app: Iterable[str],
    bridges: Mapping[str, Iterable[str]],
    tracked: Iterable[str] = (),
    now: datetime,
) -> list[ResyncAction]:
    """Actions, in order, for every open call whose caller channel no live runner owns.

    `channels`: every channel id Asterisk has (a ringing member leg is not yet in the app);
    `in_app`: the ids in our Stasis app; `bridges`: bridge id -> channel ids (ours only);
    `tracked`: channel ids that running calls own (left alone: they resync themselves).
    Outcomes: a call that can go on is adopted; a waiting caller gets `fallback`; a caller
    already in the dialplan keeps it (`fallback`); a call whose caller left while we were
    away is `answered` if it was answered (talk time counted up to now: the end was not
    seen), else `abandoned`. A ringing leg we hang up is `cancelled`. A callback request
    (the caller hung up on purpose) is resumed, once its legs are ended.
    """
    alive = set(channels)
    app = set(in_app)
    owned = set(tracked)
    bridge_of: dict[str, str] = {}
    for bridge_id, members in bridges.items():
        for channel_id in members:
            bridge_of[channel_id] = bridge_id
    actions: list[ResyncAction] = []
    used_bridges: set[str] = set()

    for call in open_calls:
        if call.channel_id is not None and call.channel_id in owned:
            continue
        caller = call.channel_id if call.channel_id in alive else None
        answered = [a for a in call.attempts if a.answered_at is not None]
        caller_bridge = bridge_of.get(caller) if caller is not None else None
        talking = next(
            (a for a in answered
             if caller_bridge is not None and a.channel_id in alive
             and bridge_of.get(a.channel_id or "") == caller_bridge),
            None,
        )
        if talking is not None and caller_bridge is not None:
            bridge_id = caller_bridge
            used_bridges.add(bridge_id)
            actions.append(Adopt(call, talking, bridge_id))
            for attempt in call.attempts:
                if attempt is talking:
                    continue
                if attempt.channel_id in alive:
                    actions.append(HangupChannel(attempt.channel_id, "stray_member_leg"))
                actions.append(CloseAttempt(attempt.attempt_id, AttemptResult.CANCELLED))
            continue

        # Nothing left to adopt: every member leg of this call ends now.
        for attempt in call.attempts:
            if attempt.channel_id in alive:
                actions.append(HangupChannel(attempt.channel_id, "stray_member_leg"))
            actions.append(
                CloseAttempt(attempt.attempt_id, AttemptResult.ANSWERED if attempt.answered_at
                             else AttemptResult.CANCELLED))
        if call.callback_tries is not None and call.answered_at is None:
            if caller is not None:
                # Still hearing their request's confirmation: what they were told comes true.
                actions.append(HangupChannel(caller, "callback_requested"))
            actions.append(ResumeCallback(call))
            continue
        if call.answered_at is not None:
            # The conversation happened; its other side is gone, so this side ends too.
            if caller is not None:
                actions.append(HangupChannel(caller, "partner_gone"))
            actions.append(CloseCall(call.call_id, CallOutcome.ANSWERED, _seconds(call.started_at, call.answered_at),
                                     _seconds(call.answered_at, now)))
        elif caller is not None and caller in app:
            actions.append(CallerToFallback(caller, (call.dialled_number or "s").lstrip("+")))
            actions.append(CloseCall(call.call_id, CallOutcome.FALLBACK, _seconds(call.started_at, now), None))
        elif caller is not None:
            # Already continuing in the dialplan (our fallback ran before we went away).
            actions.append(CloseCall(call.call_id, CallOutcome.FALLBACK, _seconds(call.started_at, now), None))
        else:
            actions.append(CloseCall(call.call_id, CallOutcome.ABANDONED, _seconds(call.started_at, now), None))

    # Our bridges that no adopted call uses and no running call owns are left-overs.
    for bridge_id, members in bridges.items():
        if bridge_id in used_bridges or owned.intersection(members):
            continue
        actions.append(DestroyBridge(bridge_id))
    return actions
