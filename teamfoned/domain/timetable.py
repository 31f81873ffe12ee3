"""The rules for when: weekly periods (opening hours, schedules), holidays and time zones; no I/O."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from typing import Any

from teamfoned.domain.errors import Invalid
from teamfoned.domain.periods_text import format_periods, overlaps, sort_periods
from teamfoned.routing.hours import WeeklyPeriod

HOLIDAY_NAME_MAX = 100

# Files in the zone database that are not zones every node reads the same way.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - _NOT_ZONES


def check_timezone(name: Any) -> str:
    """An IANA time zone name this machine knows (Europe/Amsterdam, UTC)."""
    # The list, not just ZoneInfo(name), which would also open any file under the zone path.
    if not isinstance(name, str) or name not in _zone_names():
        raise Invalid.value("timezone",
                            f"{name!r} is not an IANA time zone name such as Europe/Amsterdam")
    return name


def check_periods(periods: Iterable[Any]) -> list[WeeklyPeriod]:
    """Weekly periods, sorted; overlapping ones are refused (almost always a typing mistake)."""
    found = list(periods)
    if any(not isinstance(p, WeeklyPeriod) for p in found):
        raise Invalid.value("periods", "periods must be weekly periods (a day, a start and an end time)")
    clashes = overlaps(found)
    if clashes:
        raise Invalid.value("periods", "; ".join(clashes) + ": make them one period")
    return sort_periods(found)


def check_schedule(periods: Iterable[Any], timezone: Any) -> tuple[list[WeeklyPeriod], str | None]:
    """A member's availability schedule: periods and the zone their wall-clock times are in.

    No periods means no schedule, and then no zone.
    """
    found = check_periods(periods)
    if not found:
        return [], None
    if timezone is None:
        raise Invalid.value("timezone", "a schedule needs a time zone such as Europe/Amsterdam: "
                                        "its times are wall-clock times there")
    return found, check_timezone(timezone)


def check_holiday_name(name: Any) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str) or not 0 < len(name.strip()) <= HOLIDAY_NAME_MAX:
        raise Invalid.value("name", f"a holiday name must be text of 1 to {HOLIDAY_NAME_MAX} characters")
    return name.strip()


def check_day(day: Any) -> date:
    # A datetime is a date too, but a holiday is a whole day: refuse a time rather than drop it.
    if isinstance(day, datetime) or not isinstance(day, date):
        raise Invalid.value("date", f"{day!r} is not a date YYYY-MM-DD")
    return day


def describe_periods(periods: Iterable[WeeklyPeriod]) -> str:
    """The periods in the text syntax, for messages and listings."""
    return ", ".join(format_periods(periods))


def stored_periods(rows: Iterable[tuple[int, str, str]]) -> list[WeeklyPeriod]:
    """Weekly periods from stored rows (weekday, starts, ends), sorted.

    A row these rules would refuse (written by hand) is skipped, never an error: it must not
    stop calls or pages.
    """
    found = []
    for weekday, starts, ends in rows:
        try:
            found.append(WeeklyPeriod(weekday, starts, ends))
        except ValueError:
            continue
    return sort_periods(found)


def stored_zone(name: str | None) -> tuple[str, tzinfo]:
    """A stored time zone name and its zone; an unknown one (written by hand) reads as UTC."""
    try:
        return (name, zoneinfo.ZoneInfo(name)) if name else ("UTC", UTC)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return "UTC", UTC
