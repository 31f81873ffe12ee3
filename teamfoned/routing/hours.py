"""Opening hours, holidays and availability schedules as plain values; contains no I/O whatsoever.

Times are local wall-clock times in a given time zone (the caller passes a tzinfo);
`now` always comes in, it is never read here.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$")


class BadPeriod(ValueError):
    """A weekday period that cannot be understood (bad time, or ends before it starts)."""


@dataclass(frozen=True, slots=True)
class WeeklyPeriod:
    """From `starts` to `ends` (local times, "HH:MM", "24:00" for midnight) on `weekday` (0 = Monday)."""

    weekday: int
    starts: str
    ends: str

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise BadPeriod(f"weekday {self.weekday} is not 0 (Monday) to 6 (Sunday)")
        for value in (self.starts, self.ends):
            if not _HHMM.match(value):
                raise BadPeriod(f"{value!r} is not a time HH:MM")
        if _minutes(self.ends) <= _minutes(self.starts):
            raise BadPeriod(f"{self.starts}-{self.ends} ends before it starts")


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _local_bounds(period: WeeklyPeriod, day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    midnight = datetime.combine(day, time(0), tzinfo=tz)
    return (
        _at(midnight, _minutes(period.starts), tz),
        _at(midnight, _minutes(period.ends), tz),
    )


def _at(midnight: datetime, minutes: int, tz: tzinfo) -> datetime:
    # Wall-clock arithmetic: add to the naive local time, then attach the zone, so a
    # daylight-saving change on that day does not shift "08:00".
    naive = midnight.replace(tzinfo=None) + timedelta(minutes=minutes)
    return naive.replace(tzinfo=tz)


def within(periods: Iterable[WeeklyPeriod], tz: tzinfo, now: datetime) -> bool:
    """Whether `now` falls in one of the weekly periods, read in `tz`."""
    local = now.astimezone(tz)
    minute = local.hour * 60 + local.minute
    return any(
        p.weekday == local.weekday() and _minutes(p.starts) <= minute < _minutes(p.ends)
        for p in periods
    )


def is_open(periods: Collection[WeeklyPeriod], holidays: Collection[date], tz: tzinfo, now: datetime) -> bool:
    """A team with no opening hours is always open; a holiday closes it all day."""
    if now.astimezone(tz).date() in holidays:
        return False
    return not periods or within(periods, tz, now)


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """A team's weekly opening periods and holidays, read in its time zone."""

    periods: tuple[WeeklyPeriod, ...]
    holidays: frozenset[date]
    tz: tzinfo

    def open_at(self, now: datetime) -> bool:
        return is_open(self.periods, self.holidays, self.tz, now)


# No periods and no holidays: a team that keeps no hours is always open.
ALWAYS_OPEN = OpeningHours((), frozenset(), UTC)


def last_boundary(periods: Collection[WeeklyPeriod], tz: tzinfo, now: datetime) -> datetime | None:
    """The latest start or end of a period at or before `now` (None without periods).

    A schedule is applied at its boundaries only, so a manual change holds until the next one.
    """
    if not periods:
        return None
    today = now.astimezone(tz).date()
    latest: datetime | None = None
    for back in range(0, 8):
        day = today - timedelta(days=back)
        for period in periods:
            if period.weekday != day.weekday():
                continue
            for moment in _local_bounds(period, day, tz):
                if moment <= now and (latest is None or moment > latest):
                    latest = moment
        if latest is not None:
            break  # days go backwards: nothing on an earlier day can be later
    return latest


def next_boundary(periods: Collection[WeeklyPeriod], tz: tzinfo, now: datetime) -> datetime | None:
    """The earliest start or end of a period after `now` (None without periods): where a
    schedule next changes a member's availability."""
    if not periods:
        return None
    today = now.astimezone(tz).date()
    for ahead in range(0, 8):
        day = today + timedelta(days=ahead)
        found = [moment for period in periods if period.weekday == day.weekday()
                 for moment in _local_bounds(period, day, tz) if moment > now]
        if found:
            return min(found)  # days go forwards: nothing on a later day can be earlier
    return None
