"""Attendance codes, the work calendar and the checking of device rows: pure rules, no I/O."""
from datetime import date, time
from decimal import Decimal

import pytest

from ekinerja_common.errors import ValidationFailed
from activity import attendance
from activity.attendance import DatedName, RawRow, WorkCalendar, evaluate

CAL = WorkCalendar(2026)
MON, FRI, SAT = date(2026, 11, 23), date(2026, 11, 27), date(2026, 11, 28)


def codes(day=MON, ci="07:30", co="16:00", code=None, cal=CAL, day_over=True):
    t = attendance.parse_time
    v = evaluate(day, t(ci or ""), t(co or ""), code, cal, day_over)
    return v.codes, v.deduction


# -- codes of a day ---------------------------------------------------------------------------

def test_on_time_has_no_code():
    assert codes() == ((), Decimal(0))
    assert codes(ci="07:30:59", co="16:00:00") == ((), Decimal(0))  # seconds are dropped
    assert codes(ci="06:55", co="17:40") == ((), Decimal(0))


@pytest.mark.parametrize("check_in, code, deduction", [
    ("07:31", "TL1", "0.5"), ("08:00", "TL1", "0.5"),      # 1–30 minutes late
    ("08:01", "TL2", "1"), ("08:30", "TL2", "1"),          # 31–60
    ("08:31", "TL3", "1.5"), ("09:00", "TL3", "1.5"),      # 61–90
    ("09:01", "TL4", "2"), ("13:00", "TL4", "2"),          # ≥ 91
])
def test_late_bands(check_in, code, deduction):
    assert codes(ci=check_in) == ((code,), Decimal(deduction))


@pytest.mark.parametrize("check_out, code", [
    ("15:59", "PSW1"), ("15:30", "PSW1"), ("15:29", "PSW2"), ("15:00", "PSW2"),
    ("14:59", "PSW3"), ("14:30", "PSW3"), ("14:29", "PSW4"), ("10:00", "PSW4"),
])
def test_early_bands_monday(check_out, code):
    assert codes(co=check_out)[0] == (code,)


def test_friday_ends_at_half_past_four():
    assert codes(day=FRI, co="16:00") == (("PSW1",), Decimal("0.5"))
    assert codes(day=FRI, co="16:30") == ((), Decimal(0))


def test_missing_punches():
    assert codes(ci=None) == (("TL4",), Decimal(2))                  # no check-in = TL4
    assert codes(co=None) == (("PSW4",), Decimal(2))                 # no check-out = PSW4
    assert codes(ci="08:10", co=None) == (("TL2", "PSW4"), Decimal(3))
    assert codes(ci=None, co=None) == (("TK",), Decimal(3))          # nothing at all = TK


def test_late_and_early_add_up():
    assert codes(ci="09:31", co="14:00") == (("TL4", "PSW4"), Decimal(4))


def test_a_valid_code_excuses_the_day():
    assert codes(ci=None, co=None, code="SAKIT") == (("SAKIT",), Decimal(0))
    assert codes(ci="10:00", co="11:00", code="DL") == (("DL",), Decimal(0))


def test_no_working_day_no_codes():
    assert codes(day=SAT, ci=None, co=None) == ((), Decimal(0))
    holiday = WorkCalendar(2026, holidays={MON: "Libur"})
    assert codes(ci=None, co=None, cal=holiday) == ((), Decimal(0))
    bersama = WorkCalendar(2026, collective_leave={MON: "Cuti bersama"})
    assert codes(ci="11:00", cal=bersama) == ((), Decimal(0))


def test_a_day_not_over_has_no_missing_punch_faults_yet():
    assert codes(ci="07:45", co=None, day_over=False) == (("TL1",), Decimal("0.5"))
    assert codes(ci=None, co=None, day_over=False) == ((), Decimal(0))


def test_bands_deductions_and_hours_are_policy():
    cal = WorkCalendar(2026, schedule={1: (time(8, 0), time(15, 0))}, late_bands=(10, 20, 30),
                       deductions={**CAL.deductions, "TL2": Decimal("1.25"), "TK": Decimal(5)})
    assert codes(ci="08:15", co="15:00", cal=cal) == (("TL2",), Decimal("1.25"))
    assert codes(ci=None, co=None, cal=cal) == (("TK",), Decimal(5))
    assert codes(day=date(2026, 11, 24), ci=None, co=None, cal=cal) == ((), Decimal(0))  # Tuesday not scheduled


def test_band():
    assert [attendance.band(m, (30, 60, 90)) for m in (1, 30, 31, 60, 61, 90, 91, 500)] == [1, 1, 2, 2, 3, 3, 4, 4]


# -- the calendar -----------------------------------------------------------------------------

def test_working_days_and_target():
    assert CAL.working_days(11) == 21 and CAL.target_minutes(11) == 6300  # November 2026: 21 weekdays
    cal = WorkCalendar(2026, holidays={date(2026, 12, 25): "Natal"}, collective_leave={date(2026, 12, 24): "Cuti bersama"})
    assert cal.working_days(12) == 23 - 2
    assert cal.working_weekdays == [1, 2, 3, 4, 5]


def test_document_round_trip():
    cal = WorkCalendar(2026, holidays={date(2026, 1, 1): "Tahun Baru"}, version=3)
    doc = cal.document()
    assert doc["schedule"]["5"] == {"start": "07:30", "end": "16:30"}
    # The deduction table is BPKAD's (payroll): not part of BKD's stored document; one stored
    # before it moved still reads back (its deductions are ignored).
    assert "deductions" not in doc
    assert WorkCalendar.from_document(doc, 3) == cal
    assert WorkCalendar.from_document({**doc, "deductions": {"TK": "9"}}, 3) == cal


def test_the_default_calendar_is_monday_to_friday_less_the_fixed_national_holidays():
    cal = WorkCalendar(2026)
    assert cal.is_default and set(cal.holidays) == {date(2026, 1, 1), date(2026, 5, 1), date(2026, 6, 1),
                                                     date(2026, 8, 17), date(2026, 12, 25)}
    # Issue 9 item 5: December 2026 was 23 days here and 22 in payroll; both count 22 now.
    assert (cal.working_days(12), cal.target_minutes(12)) == (22, 6_600)
    assert not cal.is_working_day(date(2026, 12, 25)) and cal.is_working_day(date(2026, 12, 24))


def build(**kw):
    args = dict(year=2026, schedule=dict(attendance.DEFAULT_SCHEDULE), holidays=[], collective_leave=[],
                target_minutes_per_day=300, late_bands=(30, 60, 90), excused_codes=attendance.DEFAULT_EXCUSED,
                version=1)
    return attendance.build_calendar(**{**args, **kw})


def test_build_calendar_accepts_the_defaults():
    assert build().document() == WorkCalendar(2026, holidays={}).document()


def test_build_calendar_lists_every_problem():
    with pytest.raises(ValidationFailed) as exc:
        build(schedule={1: (time(16, 0), time(7, 30)), 9: (time(8), time(9))},
              holidays=[DatedName(date(2025, 12, 31), "x"), DatedName(date(2026, 8, 17), "HUT RI"),
                        DatedName(date(2026, 3, 3), " ")],
              collective_leave=[DatedName(date(2026, 8, 17), "dobel")],
              target_minutes_per_day=0, late_bands=(60, 30, 90),
              excused_codes={"cuti": "Cuti", "TK": "no", "IZIN": " "})
    assert set(exc.value.fields) == {
        "schedule.1.end", "schedule.9", "holidays.0.date", "holidays.2.name", "collective_leave.0.date",
        "target_minutes_per_day", "late_bands", "excused_codes.cuti", "excused_codes.TK", "excused_codes.IZIN"}
    for text in exc.value.fields.values():
        assert text.id and text.en


def test_build_calendar_needs_a_working_day():
    with pytest.raises(ValidationFailed) as exc:
        build(schedule={})
    assert set(exc.value.fields) == {"schedule"}


# -- rows -------------------------------------------------------------------------------------

NIP_A, NIP_B = "198609262015051001", "199001012019032002"
PEOPLE = {NIP_A: "emp-a", NIP_B: "emp-b", "197001011990031003": None}
TODAY = date(2026, 11, 27)


def check(*rows):
    return attendance.check_rows(list(rows), PEOPLE, lambda year: CAL, TODAY)


def row(line, nip=NIP_A, day="2026-11-23", ci="07:30", co="16:00", code=""):
    return RawRow(f"lines.{line}", nip, day, ci, co, code)


def test_good_rows_become_day_rows():
    result = check(row(2), row(3, nip="19900101 201903 2 002", ci="", co="", code="sakit"))
    assert result.errors == {}
    a, b = result.rows
    assert (a.employee_id, a.date, a.check_in, a.check_out, a.code) == ("emp-a", MON, time(7, 30), time(16), None)
    assert (b.employee_id, b.check_in, b.code) == ("emp-b", None, "SAKIT")  # grouped NIP, lower-case code


def test_every_problem_of_every_row_is_listed():
    result = check(
        row(2, nip="123"),
        row(3, nip="111111111111111111"),
        row(4, nip="197001011990031003"),
        row(5, day="23/11/2026"),
        row(6, day="2026-02-30"),
        row(7, day="2026-11-28X"),
        row(8, day="2026-12-01"),
        row(9, day="2026-11-09", ci="7.30", co="25:00"),
        row(10, day="2026-11-10", ci="16:00", co="07:30"),
        row(11, day="2026-11-11", code="LIBUR"),
        row(12, nip="", ci="x"),
    )
    assert result.rows == []
    flat = result.flat_errors()
    assert set(flat) == {
        "lines.2.nip", "lines.3.nip", "lines.4.nip", "lines.5.date", "lines.6.date", "lines.7.date", "lines.8.date",
        "lines.9.check_in", "lines.9.check_out", "lines.10.check_out", "lines.11.code", "lines.12.nip",
        "lines.12.check_in"}
    assert "111111111111111111" in flat["lines.3.nip"].en and "several" in flat["lines.4.nip"].en
    assert "future" in flat["lines.8.date"].en and "CUTI" in flat["lines.11.code"].en


def test_the_same_employee_day_twice_marks_both_lines():
    result = check(row(2), row(3, ci="07:45"), row(4, day="2026-11-24"))
    assert [r.key for r in result.rows] == ["lines.4"]
    flat = result.flat_errors()
    assert set(flat) == {"lines.2.date", "lines.3.date"}
    assert "lines.2" in flat["lines.3.date"].en and "lines.3" in flat["lines.2.date"].en


def test_parse_time():
    assert attendance.parse_time("7:05") == time(7, 5)
    assert attendance.parse_time("07:05:09") == time(7, 5, 9)
    assert attendance.parse_time(" ") is None
    for bad in ("24:00", "07:60", "0705", "07:05:60"):
        with pytest.raises(ValueError):
            attendance.parse_time(bad)


# -- the CSV file -----------------------------------------------------------------------------

def test_parse_csv_with_line_numbers_and_optional_code():
    text = "nip,date,check_in,check_out,code\n" \
           f"{NIP_A},2026-11-23,07:28,16:05,\n" \
           "\n" \
           f"{NIP_B},2026-11-23,,,CUTI\n"
    rows, errors = attendance.parse_csv(text)
    assert errors == {}
    assert [(r.key, r.nip, r.check_in, r.code) for r in rows] == [
        ("lines.2", NIP_A, "07:28", ""), ("lines.4", NIP_B, "", "CUTI")]


def test_parse_csv_semicolons_bom_any_column_order_and_extra_columns():
    text = "\ufeffDate;NIP;Nama;Check_Out;Check_In\r\n2026-11-23;" + NIP_A + ";Budi;16:00;07:30\r\n"
    rows, errors = attendance.parse_csv(text)
    assert errors == {} and rows == [RawRow("lines.2", NIP_A, "2026-11-23", "07:30", "16:00", "")]


def test_parse_csv_file_problems():
    assert "file" in attendance.parse_csv("")[1]
    rows, errors = attendance.parse_csv("nip,date,check_in\n1,2,3\n")
    assert rows == [] and "check_out" in errors["file"].en
    rows, errors = attendance.parse_csv(f"nip,date,check_in,check_out\n{NIP_A},2026-11-23\n{NIP_A},2026-11-24,07:30,16:00\n")
    assert set(errors) == {"lines.2"} and [r.key for r in rows] == ["lines.3"]


def test_the_readme_sample_file_is_valid():
    import os

    path = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "samples", "presensi-2026-10-05.csv")
    with open(path, encoding="utf-8") as f:
        rows, errors = attendance.parse_csv(f.read())
    assert errors == {} and len(rows) == 7
    people = {attendance.normalize_nip(r.nip): f"e{i}" for i, r in enumerate(rows)}
    result = attendance.check_rows(rows, people, lambda year: CAL, TODAY)
    assert result.errors == {}
    verdicts = [evaluate(r.date, r.check_in, r.check_out, r.code, CAL).codes for r in result.rows]
    assert verdicts == [(), ("TL2",), ("PSW1",), ("PSW4",), ("SAKIT",), ("DL",), ("TK",)]
