"""A member's line state is derived, never stored: open attempts, recent answered calls, availability."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class LineState(StrEnum):
    idle = "idle"
    ringing = "ringing"
    in_call = "in_call"
    wrap_up = "wrap_up"
    unavailable = "unavailable"


def is_available(available: bool | None, until: datetime | None, now: datetime) -> bool:
    """Availability as routing sees it: an expired `until` means unavailable."""
    return bool(available) and (until is None or until > now)


def line_state(
    *,
    available: bool | None,
    until: datetime | None,
    open_attempt_answered: bool | None,
    last_answered_end: datetime | None,
    wrap_up_s: int,
    now: datetime,
) -> LineState:
    """`open_attempt_answered`: None when the member has no open attempt.

    A call in progress wins over availability: a member who turned themselves unavailable
    mid-call is still on the phone.
    """
    if open_attempt_answered is not None:
        return LineState.in_call if open_attempt_answered else LineState.ringing
    if last_answered_end is not None and last_answered_end > now - timedelta(seconds=wrap_up_s):
        return LineState.wrap_up
    if not is_available(available, until, now):
        return LineState.unavailable
    return LineState.idle
