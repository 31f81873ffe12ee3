"""What Dial()'s DIALSTATUS says happened to a wave's legs, as call-machine events: a pure mapping, no I/O."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

from teamfoned.routing.events import (
    CallerHungUp,
    Event,
    LegAnswered,
    LegEnded,
    RingTimeout,
)


class AgiStatus(StrEnum):
    """TEAMFONED_STATUS, what the dialplan does next (asterisk-config/extensions_agi.conf.sample)."""

    DIAL = "DIAL"  # Dial(${TEAMFONED_DIAL},${TEAMFONED_RINGTIME}), then report with `result`
    FALLBACK = "FALLBACK"  # Goto(${TEAMFONED_FALLBACK_CONTEXT},${TEAMFONED_FALLBACK_EXTEN},1)
    CLOSED = "CLOSED"  # the same, for a team outside its opening hours
    UNKNOWN = "UNKNOWN"  # no team has this number
    DONE = "DONE"  # the call is over (answered and ended, or the caller left): hang up
    LINE = "LINE"  # the availability line's number: AGI(${TEAMFONED_AGI}/availability)


# Dial() reports one status for the whole wave; for a wave of several legs (ring_all) it is the
# status of the wave as a whole, so every leg of it gets the result that status stands for.
# Causes are Q.850, read by the machine's own table (routing.model.attempt_result_for_cause).
_CAUSE_BY_STATUS = {
    "BUSY": 17,  # user busy (a decline, 603, also ends as BUSY in Dial)
    "CONGESTION": 34,  # no circuit available
    "CHANUNAVAIL": 3,  # no route to destination: the phone is unreachable
}


def dial_events(status: str, *, ringing: Iterable[uuid.UUID], answered_by: uuid.UUID | None,
                already_answered: bool, answered_seconds: float | None,
                now: datetime) -> list[Event]:
    """The events for a Dial() of `ringing` that returned `status`.

    `answered_by`: the member whose leg took the call, when the dialplan says (DIALEDPEERNUMBER
    or the answer hook); `already_answered`: the machine heard of the answer already.
    `answered_seconds`: ANSWEREDTIME, to date an answer heard of only now.
    """
    legs = sorted(ringing)
    if status == "ANSWER" and answered_by is not None:
        events: list[Event] = []
        if not already_answered:
            talk = timedelta(seconds=max(0.0, answered_seconds or 0.0))
            events.append(LegAnswered(answered_by, now=now - talk))
        # Dial returns an answered call when the talking is over.
        events.append(LegEnded(answered_by, 16, now=now))
        return events
    if status == "CANCEL":
        return [CallerHungUp(now=now)]
    if status == "NOANSWER":
        return [RingTimeout(member, now=now) for member in legs]
    cause = _CAUSE_BY_STATUS.get(status)
    # Anything else (an ANSWER we cannot place, INVALIDARGS, ...) is a failed leg.
    return [LegEnded(member, cause, now=now) for member in legs]
