"""The weekly-period text syntax: what it reads, what it refuses (naming the bad part), and round trips."""

from __future__ import annotations

import pytest

from teamfoned.domain.periods_text import (
    PeriodSyntaxError,
    format_periods,
    overlaps,
    parse_period,
    parse_periods,
)
from teamfoned.routing.hours import WeeklyPeriod


def days_of(text: str) -> list[int]:
    return sorted({p.weekday for p in parse_period(text)})


def test_days_ranges_lists_full_names_and_daily() -> None:
    assert days_of("mon-fri 08:00-17:00") == [0, 1, 2, 3, 4]
    assert days_of("mon,wed,fri 08:00-17:00") == [0, 2, 4]
    assert days_of("mon,thu-sat 08:00-17:00") == [0, 3, 4, 5]
    assert days_of("fri-mon 08:00-17:00") == [0, 4, 5, 6]  # wraps past Sunday
    assert days_of("Saturday 10:00-12:00") == [5]
    assert days_of("sun-sun 10:00-12:00") == [6]
    assert days_of("daily 00:00-24:00") == list(range(7))


def test_times_several_ranges_midnight_and_padding() -> None:
    assert parse_period("tue 8:00 - 12:00, 13:00-17:30") == [
        WeeklyPeriod(1, "08:00", "12:00"), WeeklyPeriod(1, "13:00", "17:30")]
    assert parse_period("sat 22:00-24:00") == [WeeklyPeriod(5, "22:00", "24:00")]


@pytest.mark.parametrize(("text", "named"), [
    ("mon-fry 08:00-17:00", "'fry' is not a day"),
    ("mon-fri", "days and times separated by a space"),
    ("", "expected days and times"),
    ("mon 08:00", "'08:00' is not a time range"),
    ("mon 8h-17h", "'8h' is not a time HH:MM"),
    ("mon 08:00-25:00", "'25:00' is not a time of day"),
    ("mon 08:60-09:00", "'08:60' is not a time of day"),
    ("mon 17:00-08:00", "17:00-08:00 ends before it starts; split it at midnight"),
    ("fri 22:00-00:00", "write midnight at the end of a day as 24:00"),
    ("mon 09:00-09:00", "ends before it starts"),
])
def test_bad_entries_name_the_bad_part(text: str, named: str) -> None:
    with pytest.raises(PeriodSyntaxError, match=named.replace("(", r"\(")):
        parse_period(text)


def test_parse_periods_sorts_and_drops_duplicates() -> None:
    assert parse_periods(["tue 08:00-09:00", "mon-tue 08:00-09:00"]) == [
        WeeklyPeriod(0, "08:00", "09:00"), WeeklyPeriod(1, "08:00", "09:00")]


def test_overlaps_are_reported_per_day() -> None:
    periods = parse_periods(["mon-fri 08:00-12:00", "mon 11:00-13:00", "tue 12:00-13:00"])
    assert overlaps(periods) == ["mon 08:00-12:00 overlaps mon 11:00-13:00"]


def test_format_merges_consecutive_days_and_round_trips() -> None:
    entries = ["mon-fri 08:00-12:00,13:00-17:00", "sat 10:00-12:00", "sun 00:00-24:00"]
    periods = parse_periods(entries)
    assert format_periods(periods) == entries
    assert format_periods(parse_periods(["mon,wed 08:00-09:00"])) == [
        "mon 08:00-09:00", "wed 08:00-09:00"]
    assert format_periods([]) == []
    assert parse_periods(format_periods(periods)) == periods
