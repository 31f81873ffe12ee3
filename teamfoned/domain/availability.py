"""Why a member's availability is what it is: the one list of reasons; no I/O."""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo
from enum import StrEnum

from teamfoned.domain.errors import Invalid


class AvailabilityReason(StrEnum):
    """Who set the member's availability last."""

    MANUAL = "manual"  # the member, or an admin for them
    SCHEDULE = "schedule"  # their weekly schedule, at a boundary
    AUTO = "auto"  # made unavailable after unanswered calls in a row (a team setting)


class UntilChoice(StrEnum):
    """How long a member's new availability holds, as the web app offers it."""

    OPEN = "open"  # until they change it (or their schedule does)
    HOUR = "hour"
    DAY = "day"  # until midnight in their time zone
    TIME = "time"  # until a clock time today (tomorrow when it has passed)


def until_of(choice: UntilChoice, clock_time: str | None, *, now: datetime,
             zone: tzinfo) -> datetime | None:
    """The moment a choice ends at; a clock time that is not HH:MM raises Invalid naming `time`."""
    if choice is UntilChoice.OPEN:
        return None
    if choice is UntilChoice.HOUR:
        return now + timedelta(hours=1)
    local = now.astimezone(zone)
    if choice is UntilChoice.DAY:
        return datetime.combine(local.date() + timedelta(days=1), time(0), zone)
    try:
        hours, minutes = (int(part) for part in (clock_time or "").strip().split(":"))
        at = time(hours, minutes)
    except ValueError:
        raise Invalid([("time", "give the time as HH:MM")]) from None
    moment = datetime.combine(local.date(), at, zone)
    return moment if moment > local else datetime.combine(local.date() + timedelta(days=1), at,
                                                          zone)
