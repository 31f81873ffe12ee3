"""Opening hours, holidays and schedules read in a team's time zone, to the minute."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from teamfoned.routing.hours import BadPeriod, WeeklyPeriod, is_open, last_boundary, within

AMS = ZoneInfo("Europe/Amsterdam")
WEEKDAYS = [WeeklyPeriod(d, "08:00", "17:00") for d in range(5)]


def local(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        (local(2030, 1, 7, 7, 59), False),   # Monday before opening
        (local(2030, 1, 7, 8, 0), True),
        (local(2030, 1, 7, 16, 59), True),
        (local(2030, 1, 7, 17, 0), False),   # closing time is exclusive
        (local(2030, 1, 12, 10, 0), False),  # Saturday
    ],
)
def test_weekday_hours(moment, open_):
    assert is_open(WEEKDAYS, set(), AMS, moment.astimezone(UTC)) is open_


def test_hours_follow_the_team_time_zone_across_daylight_saving():
    # 08:00 in Amsterdam is 07:00 UTC in winter and 06:00 UTC in summer.
    assert is_open(WEEKDAYS, set(), AMS, datetime(2030, 1, 7, 7, 0, tzinfo=UTC))
    assert not is_open(WEEKDAYS, set(), AMS, datetime(2030, 7, 1, 5, 59, tzinfo=UTC))
    assert is_open(WEEKDAYS, set(), AMS, datetime(2030, 7, 1, 6, 0, tzinfo=UTC))


def test_a_holiday_closes_the_whole_local_day():
    christmas = {date(2030, 12, 25)}
    assert not is_open(WEEKDAYS, christmas, AMS, local(2030, 12, 25, 10, 0))
    # 23:30 UTC on the 24th is already the 25th in Amsterdam.
    assert not is_open((), christmas, AMS, datetime(2030, 12, 24, 23, 30, tzinfo=UTC))
    assert is_open(WEEKDAYS, christmas, AMS, local(2030, 12, 24, 10, 0))


def test_no_hours_means_always_open():
    assert is_open((), set(), AMS, local(2030, 1, 12, 3, 0))


def test_midnight_end_and_bad_periods():
    late = [WeeklyPeriod(0, "18:00", "24:00")]
    assert within(late, AMS, local(2030, 1, 7, 23, 59))
    for bad in (("8:00", "17:00"), ("17:00", "08:00"), ("08:00", "25:00")):
        with pytest.raises(BadPeriod):
            WeeklyPeriod(0, *bad)
    with pytest.raises(BadPeriod):
        WeeklyPeriod(7, "08:00", "09:00")


def test_last_boundary_is_the_latest_start_or_end_so_far():
    assert last_boundary(WEEKDAYS, AMS, local(2030, 1, 7, 12, 0)) == local(2030, 1, 7, 8, 0)
    assert last_boundary(WEEKDAYS, AMS, local(2030, 1, 7, 17, 0)) == local(2030, 1, 7, 17, 0)
    # Over the weekend the last boundary is Friday's closing.
    assert last_boundary(WEEKDAYS, AMS, local(2030, 1, 13, 12, 0)) == local(2030, 1, 11, 17, 0)
    assert last_boundary((), AMS, local(2030, 1, 7, 12, 0)) is None
