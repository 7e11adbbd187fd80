"""Working days and the placement that decides a month's position."""
from dataclasses import dataclass
from datetime import date

import pytest

from ekinerja_common.errors import ValidationFailed
from payroll import defaults, domain, policy


def test_working_days_are_weekdays_less_holidays():
    assert domain.working_days(2026, 11, []) == 21  # starts on a Sunday, 30 days
    assert domain.working_days(2026, 2, []) == 20
    holidays = policy.parse(2026, 1, defaults.document(2026)).holidays
    assert domain.working_days(2026, 6, holidays) == 21  # 22 weekdays less Hari Lahir Pancasila (Mon 1 June)
    assert domain.working_days(2026, 12, holidays) == 22  # 23 weekdays less Christmas (Friday)


def test_holidays_on_weekends_other_months_or_twice_count_once_or_not_at_all():
    assert domain.working_days(2026, 2, [date(2026, 2, 1)]) == 20  # a Sunday
    assert domain.working_days(2026, 2, [date(2026, 3, 2)]) == 20  # another month
    assert domain.working_days(2026, 2, [date(2026, 2, 17), date(2026, 2, 17)]) == 19
    assert domain.working_days(2028, 2, []) == 21  # leap year: 29 February 2028 is a Tuesday


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
