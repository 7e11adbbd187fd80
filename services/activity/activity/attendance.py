"""Rules of attendance and discipline (DOMAIN.md "Attendance and discipline") and of the work
calendar, free of any framework.

Every number here is policy data of a year (:class:`WorkCalendar`), edited by BKD through
``PUT /calendar/{year}``; the defaults below are only what a year starts with before BKD sets it.
The deduction each code costs is BPKAD's (payroll's policy, ``ekinerja_common.discipline``), and
working days are counted by ``ekinerja_common.workdays``, as payroll counts them.
The functions take plain values (rows as text, a NIP → employee mapping, the calendar of a year,
today's date), so the import, the device push, the unit tests and the benchmark share them.
"""
from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Callable, Iterable, Mapping, NamedTuple

from ekinerja_common import discipline, workdays
from ekinerja_common.discipline import ABSENT, DEFAULT_EXCUSED, DISCIPLINE_CODES, EARLY, LATE
from ekinerja_common.errors import FieldErrors, Text

# Defaults: the national working hours of a five-day week (07:30–16:00 Mon–Thu, 07:30–16:30 Fri)
# and the 300-minute daily target of Perka BKN 19/2011. The working days a year has before BKD sets
# it (Monday to Friday less the fixed-date national holidays) and the deduction table (BPKAD's,
# from payroll) are shared with payroll: ekinerja_common.workdays and ekinerja_common.discipline.
DEFAULT_SCHEDULE = {1: (time(7, 30), time(16, 0)), 2: (time(7, 30), time(16, 0)), 3: (time(7, 30), time(16, 0)),
                    4: (time(7, 30), time(16, 0)), 5: (time(7, 30), time(16, 30))}
DEFAULT_LATE_BANDS = (30, 60, 90)
DEFAULT_TARGET_MINUTES = workdays.DEFAULT_MINUTES_PER_DAY

_CODE = re.compile(r"[A-Z][A-Z0-9]{0,9}")


@dataclass(frozen=True)
class WorkCalendar:
    """One year's work calendar (kalender kerja): working weekdays with their hours, holidays,
    collective leave, the daily target, the lateness bands and the excused codes — BKD's policy
    data, edited through ``PUT /calendar/{year}`` — plus the deduction table it is priced with,
    which is BPKAD's (``deductions``: from payroll's ``tpp.deductions_updated``, not part of the
    stored document).

    The keys of ``schedule`` are the working weekdays (ISO: 1 = Monday); a date is a working day
    when its weekday is scheduled and it is neither a holiday nor collective leave
    (``ekinerja_common.workdays``, the count payroll uses too). ``holidays`` left out means the
    default: the fixed-date national holidays."""

    year: int
    schedule: Mapping[int, tuple[time, time]] = field(default_factory=lambda: dict(DEFAULT_SCHEDULE))
    holidays: Mapping[date, str] | None = None
    collective_leave: Mapping[date, str] = field(default_factory=dict)
    target_minutes_per_day: int = DEFAULT_TARGET_MINUTES
    late_bands: tuple[int, int, int] = DEFAULT_LATE_BANDS
    deductions: Mapping[str, Decimal] = field(default_factory=discipline.default_table)
    excused_codes: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_EXCUSED))
    version: int = 0  # 0 = the defaults, never stored

    def __post_init__(self) -> None:
        if self.holidays is None:
            object.__setattr__(self, "holidays", workdays.default_holidays(self.year))

    @property
    def is_default(self) -> bool:
        """BKD has not stored this year's calendar yet: the moving holidays and cuti bersama of
        the year's joint decree are missing (BKD's dashboard warns)."""
        return self.version == 0

    @functools.cached_property
    def working(self) -> workdays.WorkingDays:
        assert self.holidays is not None
        return workdays.WorkingDays.of(self.year, self.schedule, set(self.holidays) | set(self.collective_leave),
                                       self.target_minutes_per_day, self.version)

    @property
    def working_weekdays(self) -> list[int]:
        return sorted(self.schedule)

    def is_working_day(self, day: date) -> bool:
        return self.working.is_working_day(day)

    @functools.cached_property
    def _hours_by_date(self) -> dict[date, tuple[int, int] | None]:
        return {}

    def hours(self, day: date) -> tuple[time, time] | None:
        return self.schedule.get(day.isoweekday()) if self.is_working_day(day) else None

    def minutes(self, day: date) -> tuple[int, int] | None:
        """The day's hours as minutes after midnight (None: not a working day), memoized: an
        import asks this for every row of the same few dates."""
        cache = self._hours_by_date
        if day not in cache:
            hours = self.hours(day)
            cache[day] = (_minutes(hours[0]), _minutes(hours[1])) if hours else None
        return cache[day]

    def working_days(self, month: int) -> int:
        return self.working.count(month)

    def target_minutes(self, month: int) -> int:
        return self.working.target_minutes(month)

    def non_working_dates(self) -> set[date]:
        """Every date of the year that is not a working day (to see what a change moves)."""
        first = date(self.year, 1, 1)
        return {first + timedelta(days=i) for i in range((date(self.year + 1, 1, 1) - first).days)
                if not self.is_working_day(first + timedelta(days=i))}

    def document(self) -> dict:
        """The JSON form stored, audited and returned by ``GET /calendar/{year}``."""
        return {
            "year": self.year,
            "schedule": {str(k): {"start": _hhmm(s), "end": _hhmm(e)} for k, (s, e) in sorted(self.schedule.items())},
            "holidays": [{"date": d.isoformat(), "name": n} for d, n in sorted(self.holidays.items())],
            "collective_leave": [{"date": d.isoformat(), "name": n} for d, n in sorted(self.collective_leave.items())],
            "target_minutes_per_day": self.target_minutes_per_day,
            "late_bands": list(self.late_bands),
            "excused_codes": dict(sorted(self.excused_codes.items())),
        }

    @classmethod
    def from_document(cls, doc: Mapping, version: int) -> "WorkCalendar":
        """Back from the stored form (already validated when it was stored). Versions stored
        before the deduction table moved to payroll carry ``deductions``: ignored, the table
        comes from payroll (``repository.load_calendar``)."""
        return cls(
            year=int(doc["year"]),
            schedule={int(k): (time.fromisoformat(v["start"]), time.fromisoformat(v["end"])) for k, v in doc["schedule"].items()},
            holidays={date.fromisoformat(h["date"]): h["name"] for h in doc["holidays"]},
            collective_leave={date.fromisoformat(h["date"]): h["name"] for h in doc["collective_leave"]},
            target_minutes_per_day=int(doc["target_minutes_per_day"]),
            late_bands=tuple(int(b) for b in doc["late_bands"]),  # type: ignore[arg-type]
            excused_codes=dict(doc["excused_codes"]),
            version=version,
        )


def _hhmm(t: time) -> str:
    return t.strftime("%H:%M")


def _pct(d: Decimal) -> str:
    """A percentage as a decimal string without float noise or needless zeros ("0.5", "3")."""
    return format(d.normalize(), "f")


def pct_text(d: Decimal) -> str:
    return _pct(Decimal(d))


@dataclass(frozen=True)
class DatedName:
    date: date
    name: str


def build_calendar(year: int, schedule: Mapping[int, tuple[time, time]], holidays: Iterable[DatedName],
                   collective_leave: Iterable[DatedName], target_minutes_per_day: int,
                   late_bands: tuple[int, ...], excused_codes: Mapping[str, str], version: int) -> WorkCalendar:
    """A year's calendar from what BKD entered, with every inconsistency listed at once (field
    names as in the document, e.g. ``holidays.2.date``)."""
    errors = FieldErrors()
    if not schedule:
        errors.add("schedule", "Minimal satu hari kerja dalam seminggu", "At least one working weekday is required")
    for wd, (start, end) in schedule.items():
        if wd not in range(1, 8):
            errors.add(f"schedule.{wd}", "Hari harus 1 (Senin) sampai 7 (Minggu)", "Weekday must be 1 (Monday) to 7 (Sunday)")
        elif end <= start:
            errors.add(f"schedule.{wd}.end", "Jam pulang harus setelah jam masuk", "The end of the day must be after its start")
    seen: dict[date, str] = {}
    for list_name, items in (("holidays", list(holidays)), ("collective_leave", list(collective_leave))):
        for i, item in enumerate(items):
            if item.date.year != year:
                errors.add(f"{list_name}.{i}.date", f"Tanggal harus di tahun {year}", f"The date must be in {year}")
            elif item.date in seen:
                errors.add(f"{list_name}.{i}.date", f"Tanggal ini sudah tercantum di {seen[item.date]}",
                           f"This date is already listed in {seen[item.date]}")
            else:
                seen[item.date] = list_name
            if not item.name.strip():
                errors.add(f"{list_name}.{i}.name", "Nama hari libur wajib diisi", "The name is required")
    if not 1 <= target_minutes_per_day <= 24 * 60:
        errors.add("target_minutes_per_day", "Target menit harian harus 1 sampai 1440", "The daily target must be 1 to 1440 minutes")
    if len(late_bands) != 3 or any(b <= 0 for b in late_bands) or list(late_bands) != sorted(set(late_bands)):
        errors.add("late_bands", "Batas menit harus tiga bilangan positif yang naik, mis. [30, 60, 90]",
                   "The bands must be three increasing positive minute counts, e.g. [30, 60, 90]")
    for code, name in excused_codes.items():
        if not _CODE.fullmatch(code) or code in DISCIPLINE_CODES:
            errors.add(f"excused_codes.{code}", "Kode harus huruf besar/angka (maks. 10) dan bukan TL/PSW/TK",
                       "A code is up to 10 capital letters or digits, and not TL/PSW/TK")
        elif not name.strip():
            errors.add(f"excused_codes.{code}", "Nama kode wajib diisi", "The code's name is required")
    errors.raise_if_any()
    return WorkCalendar(
        year=year, schedule=dict(schedule),
        holidays={h.date: h.name.strip() for h in holidays},
        collective_leave={h.date: h.name.strip() for h in collective_leave},
        target_minutes_per_day=target_minutes_per_day, late_bands=tuple(late_bands),  # type: ignore[arg-type]
        excused_codes={k: v.strip() for k, v in excused_codes.items()}, version=version,
    )


# -- one day --------------------------------------------------------------------------------

class Verdict(NamedTuple):
    codes: tuple[str, ...]
    deduction: Decimal
    working_day: bool


_ZERO = Decimal(0)
_NOTHING = Verdict((), _ZERO, True)
_NOTHING_NON_WORKING = Verdict((), _ZERO, False)


def _minutes(t: time) -> int:
    # Whole minutes: seconds are dropped, so 07:30:59 is on time and 07:31 is one minute late.
    return t.hour * 60 + t.minute


def band(minutes: int, bands: tuple[int, ...]) -> int:
    """1..4 for 1..b1, b1+1..b2, b2+1..b3, above b3 minutes (default 1–30/31–60/61–90/≥91)."""
    for i, limit in enumerate(bands):
        if minutes <= limit:
            return i + 1
    return len(bands) + 1


def evaluate(day: date, check_in: time | None, check_out: time | None, code: str | None,
             cal: WorkCalendar, day_over: bool = True) -> Verdict:
    """The day's discipline codes and deduction.

    Not a working day: nothing counts. A valid leave/duty code: excused, whatever the clock says.
    No check-in and no check-out: TK. Otherwise lateness (no check-in = TL4) and leaving early
    (no check-out = PSW4) against the day's hours, each in its band.

    While the day is not over (a device pushing during the day, leave entered ahead), a punch
    that is still missing is not yet a fault: no PSW4 and no TK until the day is closed."""
    hours = cal.minutes(day)
    if hours is None:
        return _NOTHING_NON_WORKING
    if code:
        # Excused; priced by BPKAD's table like every code (0 by default, as payroll counts it).
        return Verdict((code,), cal.deductions.get(code, _ZERO), True)
    if check_in is None and check_out is None:
        if not day_over:
            return _NOTHING
        return Verdict((ABSENT,), discipline.day_deduction((ABSENT,), cal.deductions), True)
    start, end = hours
    codes: list[str] = []
    if check_in is None:
        codes.append(LATE[-1])
    elif (late := _minutes(check_in) - start) > 0:
        codes.append(LATE[band(late, cal.late_bands) - 1])
    if check_out is None:
        if day_over:
            codes.append(EARLY[-1])
    elif (early := end - _minutes(check_out)) > 0:
        codes.append(EARLY[band(early, cal.late_bands) - 1])
    if not codes:
        return _NOTHING
    return Verdict(tuple(codes), discipline.day_deduction(codes, cal.deductions), True)


# -- rows from a device file or a device push -----------------------------------------------

class RawRow(NamedTuple):
    """A row as received; ``key`` names it in error messages ("lines.7", "records.2").
    (Named tuples: a month's file makes 220,000 of them.)"""

    key: str
    nip: str
    date: str
    check_in: str
    check_out: str
    code: str = ""


class DayRow(NamedTuple):
    key: str
    employee_id: str
    date: date
    check_in: time | None
    check_out: time | None
    code: str | None


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"(\d{1,2}):([0-5]\d)(?::([0-5]\d))?")


@functools.lru_cache(maxsize=100_000)  # a month file repeats the same few thousand times
def parse_time(raw: str) -> time | None:
    """``HH:MM`` or ``HH:MM:SS`` (devices write seconds); empty = no punch. ValueError if bad."""
    raw = raw.strip()
    if not raw:
        return None
    m = _TIME.fullmatch(raw)
    if m is None or int(m.group(1)) > 23:
        raise ValueError(raw)
    return time(int(m.group(1)), int(m.group(2)), int(m.group(3) or 0))


@functools.lru_cache(maxsize=4096)
def _parse_date(raw: str) -> date | None:
    if not _DATE.fullmatch(raw):
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


def normalize_nip(raw: str) -> str:
    """NIPs are often written grouped ("19860926 201505 1 001"); the groups are not part of it."""
    return raw.replace(" ", "").strip()


@dataclass
class RowCheck:
    """The outcome of checking rows: the good ones and, per bad row, every problem."""

    rows: list[DayRow] = field(default_factory=list)
    errors: dict[str, dict[str, Text]] = field(default_factory=dict)  # row key -> field -> text

    def add(self, key: str, column: str, id_text: str, en_text: str) -> None:
        self.errors.setdefault(key, {}).setdefault(column, Text(id_text, en_text))

    def flat_errors(self) -> dict[str, Text]:
        return {f"{key}.{col}": t for key, cols in self.errors.items() for col, t in cols.items()}


def check_rows(raw_rows: Iterable[RawRow], employee_by_nip: Mapping[str, str | None],
               calendar_for: Callable[[int], WorkCalendar], today: date) -> RowCheck:
    """Every problem of every row, so a file is fixed in one go: unknown NIP, bad date (or in the
    future), bad time, check-out before check-in, unknown code, the same employee-day twice.

    ``employee_by_nip`` maps a NIP to its employee id, or to None when two employees share it."""
    result = RowCheck()
    first_seen: dict[tuple[str, str], RawRow] = {}
    parsed: list[tuple[RawRow, str | None, date | None, time | None, time | None, str | None]] = []
    nips: dict[str, str] = {}
    for raw in raw_rows:
        nip = nips.get(raw.nip)
        if nip is None:
            nip = nips[raw.nip] = normalize_nip(raw.nip)
        employee_id: str | None = None
        if not nip:
            result.add(raw.key, "nip", "NIP wajib diisi", "NIP is required")
        elif not nip.isdigit() or len(nip) != 18:
            result.add(raw.key, "nip", "NIP harus 18 angka", "A NIP has 18 digits")
        elif nip not in employee_by_nip:
            result.add(raw.key, "nip", f"NIP {nip} tidak dikenal", f"Unknown NIP {nip}")
        elif employee_by_nip[nip] is None:
            result.add(raw.key, "nip", f"NIP {nip} dimiliki lebih dari satu pegawai", f"NIP {nip} belongs to several employees")
        else:
            employee_id = employee_by_nip[nip]
        raw_date = raw.date.strip()
        day = _parse_date(raw_date)
        if day is None:
            result.add(raw.key, "date", "Tanggal harus berformat YYYY-MM-DD", "The date must be YYYY-MM-DD")
        if day is not None and day > today:
            result.add(raw.key, "date", "Tanggal tidak boleh di masa depan", "The date cannot be in the future")
            day = None
        times: list[time | None] = []
        for column, value in (("check_in", raw.check_in), ("check_out", raw.check_out)):
            try:
                times.append(parse_time(value))
            except ValueError:
                times.append(None)
                result.add(raw.key, column, "Jam harus berformat HH:MM atau HH:MM:SS", "The time must be HH:MM or HH:MM:SS")
        check_in, check_out = times
        if check_in is not None and check_out is not None and check_out < check_in:
            result.add(raw.key, "check_out", "Jam pulang lebih awal dari jam masuk", "Check-out is before check-in")
        code = raw.code.strip().upper() or None
        if code is not None and day is not None:
            allowed = calendar_for(day.year).excused_codes
            if code not in allowed:
                result.add(raw.key, "code", f"Kode {code} tidak dikenal (yang berlaku: {', '.join(sorted(allowed))})",
                           f"Unknown code {code} (valid: {', '.join(sorted(allowed))})")
        if nip and raw_date:
            key = (nip, raw_date)
            if key in first_seen:
                first = first_seen[key]
                result.add(raw.key, "date", f"Pegawai dan tanggal ini sudah ada di {first.key}",
                           f"This employee and date already appear at {first.key}")
                # Neither copy is imported: there is no telling which of the two is right.
                result.add(first.key, "date", f"Pegawai dan tanggal ini muncul lagi di {raw.key}",
                           f"This employee and date appear again at {raw.key}")
            else:
                first_seen[key] = raw
        parsed.append((raw, employee_id, day, check_in, check_out, code))
    for raw, employee_id, day, check_in, check_out, code in parsed:
        if raw.key not in result.errors and employee_id is not None and day is not None:
            result.rows.append(DayRow(raw.key, employee_id, day, check_in, check_out, code))
    return result


REQUIRED_COLUMNS = ("nip", "date", "check_in", "check_out")


def parse_csv(text: str) -> tuple[list[RawRow], dict[str, Text]]:
    """Rows of a device file (format in the service README). Rows are keyed by their line number
    in the file (the header is line 1). File-level problems come back under ``file``."""
    errors: dict[str, Text] = {}
    text = text.removeprefix("\ufeff")  # the byte-order mark spreadsheet programs write
    first_line = text.split("\n", 1)[0]
    # Spreadsheets in an Indonesian locale save "CSV" with semicolons.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return [], {"file": Text("Berkas kosong", "The file is empty")}
    columns = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        errors["file"] = Text(f"Baris judul harus memuat kolom {', '.join(REQUIRED_COLUMNS)} (kurang: {', '.join(missing)})",
                              f"The header must name the columns {', '.join(REQUIRED_COLUMNS)} (missing: {', '.join(missing)})")
        return [], errors
    index = {name: columns.index(name) for name in (*REQUIRED_COLUMNS, "code") if name in columns}
    rows: list[RawRow] = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(values):
                continue  # blank lines (often the last one) carry nothing
            if len(values) < len(columns):
                errors[f"lines.{line}"] = Text(f"Baris ini memiliki {len(values)} kolom, seharusnya {len(columns)}",
                                               f"This line has {len(values)} columns instead of {len(columns)}")
                continue
            rows.append(RawRow(
                key=f"lines.{line}", nip=values[index["nip"]], date=values[index["date"]],
                check_in=values[index["check_in"]], check_out=values[index["check_out"]],
                code=values[index["code"]] if "code" in index else "",
            ))
    except csv.Error as exc:
        errors[f"lines.{reader.line_num}"] = Text(f"Baris tidak dapat dibaca ({exc})", f"Unreadable line ({exc})")
    return rows, errors
