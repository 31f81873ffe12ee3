"""The one text syntax for weekly periods ("mon-fri 08:00-12:00,13:00-17:00"), both ways; no I/O.

An entry is DAYS, whitespace, TIMES:
- DAYS: a day (mon tue wed thu fri sat sun, or the full English name), a range of days
  (mon-fri; a range may wrap past Sunday: fri-mon), or a comma list of those (mon,wed,fri-sun);
  `daily` means every day.
- TIMES: HH:MM-HH:MM, or a comma list of them (08:00-12:00,13:00-17:00); 24:00 is midnight at
  the end of the day. A period ends after it starts: split one that runs past midnight
  (fri 22:00-24:00 and sat 00:00-02:00).
Opening hours (the command line and the directory file) and availability schedules use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import pairwise

from teamfoned.routing.hours import BadPeriod, WeeklyPeriod

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAYS = {name: i for names in (DAY_NAMES, _FULL_NAMES) for i, name in enumerate(names)}
# One or two hour digits are accepted ("8:00") and written back zero-padded.
_TIME = re.compile(r"^([0-9]{1,2}):([0-9]{2})$")
EXAMPLE = "mon-fri 08:00-17:00"


class PeriodSyntaxError(ValueError):
    """An entry that does not read as DAYS TIMES; the message names the bad part."""


def parse_period(text: str) -> list[WeeklyPeriod]:
    """One entry ("mon-fri 08:00-17:00") as one period per day and time range."""
    if not isinstance(text, str) or not text.strip():
        raise PeriodSyntaxError(f"{text!r}: expected days and times, e.g. {EXAMPLE!r}")
    parts = text.strip().split(None, 1)
    if len(parts) < 2:
        raise PeriodSyntaxError(
            f"{text!r}: expected days and times separated by a space, e.g. {EXAMPLE!r}"
            " (on the command line, quote each entry)")
    days = _days(text, parts[0])
    # Spaces inside the times are forgiven: "08:00 - 12:00, 13:00-17:00".
    ranges = [_range(text, item) for item in re.sub(r"\s+", "", parts[1]).split(",")]
    return [WeeklyPeriod(day, starts, ends) for day in days for starts, ends in ranges]


def parse_periods(texts: Iterable[str]) -> list[WeeklyPeriod]:
    """Every entry's periods, sorted; the first bad entry raises (callers that list every
    problem call parse_period per entry)."""
    found: list[WeeklyPeriod] = []
    for text in texts:
        found.extend(parse_period(text))
    return sort_periods(found)


def sort_periods(periods: Iterable[WeeklyPeriod]) -> list[WeeklyPeriod]:
    return sorted(set(periods), key=lambda p: (p.weekday, p.starts, p.ends))


def overlaps(periods: Iterable[WeeklyPeriod]) -> list[str]:
    """Periods of one day that overlap, in words; an overlap is almost always a typing mistake."""
    found = []
    ordered = sort_periods(periods)
    for before, after in pairwise(ordered):
        if before.weekday == after.weekday and after.starts < before.ends:
            day = DAY_NAMES[before.weekday]
            found.append(f"{day} {before.starts}-{before.ends} overlaps {day} {after.starts}-{after.ends}")
    return found


def format_periods(periods: Iterable[WeeklyPeriod]) -> list[str]:
    """The periods as entries of this syntax, consecutive days with the same times merged."""
    by_day: dict[int, tuple[str, ...]] = {}
    for p in sort_periods(periods):
        by_day[p.weekday] = (*by_day.get(p.weekday, ()), f"{p.starts}-{p.ends}")
    entries: list[str] = []
    day = 0
    while day < 7:
        if day not in by_day:
            day += 1
            continue
        last = day
        while last + 1 < 7 and by_day.get(last + 1) == by_day[day]:
            last += 1
        days = DAY_NAMES[day] if last == day else f"{DAY_NAMES[day]}-{DAY_NAMES[last]}"
        entries.append(f"{days} {','.join(by_day[day])}")
        day = last + 1
    return entries


def _days(text: str, spec: str) -> list[int]:
    spec = spec.lower()
    if spec == "daily":
        return list(range(7))
    days: list[int] = []
    for item in spec.split(","):
        first, dash, last = item.partition("-")
        start = _day(text, first)
        if not dash:
            days.append(start)
            continue
        end = _day(text, last)
        # A range may wrap past Sunday (fri-mon); a range from a day to itself is that day.
        days.extend((start + i) % 7 for i in range((end - start) % 7 + 1))
    return sorted(set(days))


def _day(text: str, name: str) -> int:
    if name not in _DAYS:
        raise PeriodSyntaxError(
            f"{text!r}: {name!r} is not a day (use {', '.join(DAY_NAMES)}, a range like mon-fri, "
            "or a comma list)")
    return _DAYS[name]


def _range(text: str, item: str) -> tuple[str, str]:
    starts, dash, ends = item.partition("-")
    if not dash:
        raise PeriodSyntaxError(f"{text!r}: {item!r} is not a time range HH:MM-HH:MM")
    starts, ends = _time(text, starts), _time(text, ends)
    if ends <= starts:
        hint = (f"; split it at midnight ({starts}-24:00 and 00:00-{ends} the next day)"
                if ends != "00:00" else "; write midnight at the end of a day as 24:00")
        raise PeriodSyntaxError(f"{text!r}: {starts}-{ends} ends before it starts{hint}")
    try:
        WeeklyPeriod(0, starts, ends)  # the same rule the routing core applies
    except BadPeriod as exc:
        raise PeriodSyntaxError(f"{text!r}: {exc}") from None
    return starts, ends


def _time(text: str, value: str) -> str:
    match = _TIME.match(value)
    if match is None:
        raise PeriodSyntaxError(f"{text!r}: {value!r} is not a time HH:MM")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if not (hours < 24 and minutes < 60) and (hours, minutes) != (24, 0):
        raise PeriodSyntaxError(f"{text!r}: {value!r} is not a time of day (00:00 to 24:00)")
    return f"{hours:02d}:{minutes:02d}"
