"""Working days and the deduction table, one answer in activity and payroll (issue 9 item 5,
issue 12): the month's target activity shows the employee (``WorkCalendar``) equals the one
payroll pays (``domain.month_target``), with and without a calendar stored by BKD; and a month's
attendance codes cost the same in both."""
from datetime import date, time, timedelta
from decimal import Decimal

from hypothesis import given, settings, strategies as st

from ekinerja_common import discipline
from ekinerja_common.workdays import WorkingDays

from activity import attendance
from activity.attendance_services import calendar_data
from payroll import defaults, domain, policy


def payroll_calendar(data: dict) -> WorkingDays:
    """What payroll holds after ``calendar.updated`` (inbox.on_calendar + repository.work_calendar)."""
    days_off = [date.fromisoformat(d) for d in [*data["holidays"], *data["collective_leave"]]]
    return WorkingDays.of(data["year"], data["working_weekdays"], days_off, data["target_minutes_per_day"], data["version"])


def test_without_a_stored_calendar_both_count_the_same_days():
    for year in range(2024, 2031):
        cal = attendance.WorkCalendar(year)
        for month in range(1, 13):
            target = domain.month_target(year, month, None)
            assert (cal.working_days(month), cal.target_minutes(month)) == (
                target.working_days, target.working_days * target.minutes_per_day), (year, month)
    # The figures of the issue: December 2026.
    assert attendance.WorkCalendar(2026).working_days(12) == domain.month_target(2026, 12, None).working_days == 22


@settings(max_examples=200, deadline=None)
@given(weekdays=st.sets(st.integers(1, 7), min_size=1),
       off=st.lists(st.integers(0, 364), max_size=30, unique=True),
       leave=st.lists(st.integers(0, 364), max_size=10, unique=True),
       minutes=st.integers(1, 600), year=st.integers(2024, 2030))
def test_a_calendar_bkd_stores_counts_the_same_in_both(weekdays, off, leave, minutes, year):
    first = date(year, 1, 1)
    holidays = [attendance.DatedName(first + timedelta(days=n), "Libur") for n in off if (first + timedelta(days=n)).year == year]
    taken = {h.date for h in holidays}
    bersama = [attendance.DatedName(first + timedelta(days=n), "Cuti bersama") for n in leave
               if (first + timedelta(days=n)).year == year and first + timedelta(days=n) not in taken]
    cal = attendance.build_calendar(year, {wd: (time(7, 30), time(16, 0)) for wd in weekdays}, holidays, bersama,
                                    minutes, (30, 60, 90), dict(discipline.DEFAULT_EXCUSED), version=1)
    held = payroll_calendar(calendar_data(cal))
    for month in range(1, 13):
        target = domain.month_target(year, month, held)
        assert (cal.working_days(month), cal.target_minutes(month)) == (
            target.working_days, target.working_days * target.minutes_per_day)


CODES = [*discipline.DISCIPLINE_CODES, *discipline.DEFAULT_EXCUSED, "IZIN"]


@settings(max_examples=200, deadline=None)
@given(days=st.dictionaries(st.sampled_from(CODES), st.integers(1, 23)),
       rates=st.dictionaries(st.sampled_from(CODES), st.decimals(0, 10, places=2), max_size=5))
def test_a_months_codes_cost_the_same_in_both(days, rates):
    doc = defaults.document(2026)
    doc["discipline_deductions_pct"] = {**doc["discipline_deductions_pct"], **{c: str(r) for c, r in rates.items()}}
    pol = policy.parse(2026, 2, doc)
    # What activity keeps of tpp.deductions_updated (inbox.on_deductions_updated)...
    received = {code: Decimal(pct) for code, pct in discipline.table_text(pol.deductions_pct).items()}
    # ...prices the month as payroll's compute does.
    assert discipline.price(days, received) == pol.deduction_pct(days)
    # Before any table arrives, both use the same default.
    assert discipline.price(days, discipline.default_table()) == policy.parse(2026, 1, defaults.document(2026)).deduction_pct(days)
