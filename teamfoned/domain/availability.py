"""Why a member's availability is what it is: the one list of reasons; no I/O."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, time, timedelta, tzinfo
from enum import StrEnum

from teamfoned.domain.errors import Invalid
from teamfoned.routing.hours import WeeklyPeriod, next_boundary


class AvailabilityReason(StrEnum):
    """Who set the member's availability last."""

    MANUAL = "manual"  # the member, or an admin for them
    SCHEDULE = "schedule"  # their weekly schedule, at a boundary
    AUTO = "auto"  # made unavailable after unanswered calls in a row (a team setting)


class AwayReason(StrEnum):
    """What a member says they are away for, when they make themselves unavailable."""

    BREAK = "break"
    LUNCH = "lunch"
    TRAINING = "training"
    OTHER = "other"


class UntilChoice(StrEnum):
    """How long a member's new availability holds, as the web app offers it."""

    OPEN = "open"  # until they change it (or their schedule does)
    HOUR = "hour"
    SCHEDULE = "schedule"  # until their weekly schedule next changes it
    DAY = "day"  # until midnight in their time zone
    TIME = "time"  # until a clock time today (tomorrow when it has passed)


def until_of(choice: UntilChoice, clock_time: str | None, *, now: datetime, zone: tzinfo,
             schedule: Collection[WeeklyPeriod] = ()) -> datetime | None:
    """The moment a choice ends at; a clock time that is not HH:MM raises Invalid naming `time`,
    the end of a schedule the member does not have raises Invalid naming `until`."""
    if choice is UntilChoice.OPEN:
        return None
    if choice is UntilChoice.HOUR:
        return now + timedelta(hours=1)
    if choice is UntilChoice.SCHEDULE:
        boundary = next_boundary(schedule, zone, now)
        if boundary is None:
            raise Invalid([("until", "there is no schedule to wait for")])
        return boundary
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
