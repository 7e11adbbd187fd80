"""Working days of a month and the default work calendar: the one count activity (the employee's
month, attendance codes) and payroll (the TPP target) both use, so that they can never count a
month differently again (issue 9 item 5: December 2026 was 23 days in activity, 22 in payroll).

The work calendar itself is BKD's, edited in activity (``PUT /calendar/{year}``) and announced to
payroll as ``calendar.updated``. This module holds only the mechanism — which dates of a month
are working days given the working weekdays and the days off — and the calendar a year has
**before BKD stores one**:

- Monday to Friday, 300 effective minutes a working day (Perka BKN 19/2011);
- less the national holidays whose date is the same every year (:data:`FIXED_HOLIDAYS`): New
  Year, Labour Day, Pancasila Day, Independence Day, Christmas. Decided with issue 9: offices are
  closed on them every year, so a default that counts them as working days would set a target
  nobody can meet (the employee saw 71.4 % where payroll paid 75 %); the moving holidays (Idul
  Fitri, Idul Adha, Nyepi, Waisak, Imlek, Isra Mi'raj, …) and cuti bersama come from each year's
  joint decree (SKB 3 Menteri) and only BKD can enter them, which is why activity tells whether
  a year's calendar is still the default (``is_default``) and BKD's dashboard warns about it.
"""
from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable

MONDAY_TO_FRIDAY = frozenset({1, 2, 3, 4, 5})
DEFAULT_MINUTES_PER_DAY = 300
# (month, day, name): national holidays on the same date every year.
FIXED_HOLIDAYS = (
    (1, 1, "Tahun Baru Masehi"),
    (5, 1, "Hari Buruh Internasional"),
    (6, 1, "Hari Lahir Pancasila"),
    (8, 17, "Hari Proklamasi Kemerdekaan RI"),
    (12, 25, "Hari Raya Natal"),
)


def default_holidays(year: int) -> dict[date, str]:
    """The fixed-date national holidays of ``year``, with their names."""
    return {date(year, m, d): name for m, d, name in FIXED_HOLIDAYS}


def month_days(year: int, month: int) -> list[date]:
    first = date(year, month, 1)
    return [first + timedelta(days=n) for n in range(_calendar.monthrange(year, month)[1])]


@dataclass(frozen=True)
class WorkingDays:
    """Which days of a year are working days, and the daily minutes target: the part of a work
    calendar that decides the month's target. ``version`` is the stored calendar's (0: the
    default, never stored)."""

    year: int
    weekdays: frozenset[int] = MONDAY_TO_FRIDAY  # ISO: 1 = Monday … 7 = Sunday
    days_off: frozenset[date] = field(default_factory=frozenset)  # holidays and collective leave
    minutes_per_day: int = DEFAULT_MINUTES_PER_DAY
    version: int = 0

    @classmethod
    def default(cls, year: int) -> "WorkingDays":
        return cls(year, days_off=frozenset(default_holidays(year)))

    @classmethod
    def of(cls, year: int, weekdays: Iterable[int], days_off: Iterable[date], minutes_per_day: int | None,
           version: int) -> "WorkingDays":
        return cls(year, frozenset(weekdays), frozenset(days_off),
                   DEFAULT_MINUTES_PER_DAY if minutes_per_day is None else minutes_per_day, version)

    @property
    def is_default(self) -> bool:
        return self.version == 0

    def is_working_day(self, day: date) -> bool:
        return day.isoweekday() in self.weekdays and day not in self.days_off

    def count(self, month: int) -> int:
        """Working days of ``month``: its days on a working weekday that are not days off (a day
        off listed twice, on a weekend or in another month changes nothing)."""
        return sum(1 for d in month_days(self.year, month) if self.is_working_day(d))

    def target_minutes(self, month: int) -> int:
        return self.count(month) * self.minutes_per_day
