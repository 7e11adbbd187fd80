"""Working days (BKD's work calendar, or the default shared with activity), the month's target and
the placement that decides a month's position.

March 2026 (Nyepi and Idul Fitri): holidays Thu 19, Fri 20, Sat 21; collective leave (cuti bersama)
Wed 18, Mon 23, Tue 24. The month has 22 days Monday–Friday and 26 Monday–Saturday.
"""
from dataclasses import dataclass
from datetime import date

import pytest

from ekinerja_common.errors import ValidationFailed
from ekinerja_common.workdays import WorkingDays
from payroll import domain


def test_working_days_are_weekdays_less_holidays():
    assert WorkingDays(2026).count(11) == 21  # starts on a Sunday, 30 days
    assert WorkingDays(2026).count(2) == 20
    default = WorkingDays.default(2026)  # the calendar a year has before BKD stores one
    assert default.count(6) == 21  # 22 weekdays less Hari Lahir Pancasila (Mon 1 June)
    assert default.count(12) == 22  # 23 weekdays less Christmas (Friday)


def test_holidays_on_weekends_other_months_or_twice_count_once_or_not_at_all():
    assert WorkingDays(2026, days_off=frozenset({date(2026, 2, 1)})).count(2) == 20  # a Sunday
    assert WorkingDays(2026, days_off=frozenset({date(2026, 3, 2)})).count(2) == 20  # another month
    assert WorkingDays(2026, days_off=frozenset({date(2026, 2, 17)})).count(2) == 19
    assert WorkingDays(2028).count(2) == 21  # leap year: 29 February 2028 is a Tuesday


MARCH_HOLIDAYS = frozenset({date(2026, 3, 19), date(2026, 3, 20), date(2026, 3, 21)})
MARCH_LEAVE = frozenset({date(2026, 3, 18), date(2026, 3, 23), date(2026, 3, 24)})


def cal(weekdays=frozenset({1, 2, 3, 4, 5}), holidays=frozenset(), collective_leave=frozenset(), minutes=300):
    """BKD's calendar as payroll holds it (repository.work_calendar)."""
    return WorkingDays.of(2026, weekdays, holidays | collective_leave, minutes, 3)


def test_calendar_counts_only_its_working_weekdays():
    assert cal().count(6) == 22  # Monday to Friday by default
    assert cal(weekdays=frozenset(range(1, 7))).count(6) == 26  # a six-day week
    assert cal(weekdays=frozenset({1, 2, 3, 4})).count(6) == 18  # no Fridays (4 of them in June)
    assert cal(weekdays=frozenset({7})).count(3) == 5  # the Sundays of March 2026


def test_calendar_takes_off_holidays_and_collective_leave_on_working_weekdays():
    assert cal(holidays=MARCH_HOLIDAYS, collective_leave=MARCH_LEAVE).count(3) == 22 - 2 - 3  # Sat 21 is off anyway
    six_days = cal(weekdays=frozenset(range(1, 7)), holidays=MARCH_HOLIDAYS, collective_leave=MARCH_LEAVE)
    assert six_days.count(3) == 26 - 3 - 3  # on a six-day week the Saturday holiday counts
    assert cal(collective_leave=MARCH_LEAVE).count(3) == 19  # collective leave alone
    assert cal(holidays=MARCH_HOLIDAYS).count(3) == 20  # holidays alone
    # Days of other months change nothing; a date in both lists is one day off.
    assert cal(holidays=MARCH_HOLIDAYS, collective_leave=frozenset({date(2026, 3, 19)})).count(4) == 22
    assert cal(holidays=MARCH_HOLIDAYS, collective_leave=frozenset({date(2026, 3, 19)})).count(3) == 20


def test_month_target_follows_bkd_calendar_when_there_is_one():
    t = domain.month_target(2026, 3, cal(holidays=MARCH_HOLIDAYS, collective_leave=MARCH_LEAVE, minutes=330))
    assert (t.working_days, t.minutes_per_day) == (17, 330)
    assert t.shown() == {"calendar_source": "bkd", "calendar_version": 3, "minutes_per_day_source": "bkd"}
    # The default's holidays are not added to BKD's: 1 June is a working day if BKD says so.
    t = domain.month_target(2026, 6, cal())
    assert (t.working_days, t.calendar_source) == (22, "bkd")
    # A calendar event without a daily target takes the default 300 minutes, and says so.
    t = domain.month_target(2026, 6, WorkingDays.of(2026, {1, 2, 3, 4, 5}, (), None, 3), False)
    assert (t.working_days, t.minutes_per_day, t.calendar_source, t.minutes_per_day_source) == (22, 300, "bkd", "default")


def test_month_target_without_a_calendar_is_the_shared_default():
    t = domain.month_target(2026, 6, None)
    assert (t.working_days, t.minutes_per_day) == (21, 300)  # Monday to Friday less 1 June
    assert t.shown() == {"calendar_source": "default", "calendar_version": None, "minutes_per_day_source": "default"}
    assert (domain.month_target(2026, 12, None).working_days, domain.month_target(2026, 12, None).minutes_per_day) == (22, 300)
    with pytest.raises(ValueError):
        domain.month_target(2027, 6, cal())


def test_month_bounds_and_period_check():
    assert domain.month_bounds(2028, 2) == (date(2028, 2, 1), date(2028, 2, 29))
    with pytest.raises(ValidationFailed) as exc:
        domain.check_period(1999, 13)
    assert set(exc.value.fields) == {"year", "month"}


@dataclass
class P:
    name: str
    start_date: date
    end_date: date | None


def test_placement_on_the_last_day_decides_the_month():
    last = date(2026, 6, 30)
    old = P("old", date(2020, 1, 1), date(2026, 6, 14))
    new = P("new", date(2026, 6, 15), None)
    assert domain.month_placement([old, new], last) is new
    until_end = P("until_end", date(2020, 1, 1), date(2026, 6, 30))
    assert domain.month_placement([until_end, old], last) is until_end
    # A short stint that started later but ended mid-month does not beat the post still held.
    stint = P("stint", date(2026, 6, 10), date(2026, 6, 20))
    assert domain.month_placement([stint, until_end], last) is until_end


def test_without_one_on_the_last_day_the_latest_in_the_month_decides():
    last = date(2026, 6, 30)
    early = P("early", date(2019, 1, 1), date(2026, 6, 10))
    later = P("later", date(2026, 6, 11), date(2026, 6, 20))
    assert domain.month_placement([later, early], last) is later
