"""Service layer of attendance and of the work calendar.

Every writer of attendance (file import, device push, leave entry, day closing, calendar change)
goes through the same two steps: :func:`plan` compares what a source says about each
employee-day with what is stored and works out the new versions, history rows, events and
summary differences, set-wise and without writing; :func:`write` stores all of it with one
statement per table (COPY on PostgreSQL). An employee-day whose inputs did not change gets no new
version and no event, which is what makes re-importing a file a no-op.

Writers of attendance are serialized (one transaction-scoped advisory lock on PostgreSQL; SQLite
serializes every writer anyway): an import reads the stored days and then writes new versions, and
two imports interleaving would both write "version 2" of a day.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import and_, exists, or_, select, text
from sqlalchemy.orm import Session

from ekinerja_common.envelope import utcnow
from ekinerja_common.errors import Conflict, DomainError, NotFound, Text, ValidationFailed
from ekinerja_common.uow import UnitOfWork
from ekinerja_common import evidence

from . import attendance, bulk, domain, repository
from .repository import CHUNK, Calendars, employees_by_nip, load_calendar, locked_months
from .attendance import RawRow, WorkCalendar
from .orm import (AttendanceDay, AttendanceImport, AttendanceRecord, CalendarAudit, ClosedDay, Device, Employee,
                  Evidence, LeaveRecord, Placement, WorkCalendarRow)
from .summary import Deltas

ATTENDANCE_LOCK = 0x6B696E65  # any constant; names the one advisory lock of attendance writers

DAY_COLUMNS = ("employee_id", "date", "check_in", "check_out", "device_code", "leave_code", "leave_id", "codes",
               "deduction_pct", "version", "published_codes", "published_deduction", "updated_at")
HISTORY_COLUMNS = ("employee_id", "date", "version", "check_in", "check_out", "device_code", "leave_code", "codes",
                   "deduction_pct", "source", "import_id", "recorded_by", "recorded_at")


def serialize_attendance_writers(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ATTENDANCE_LOCK})


# -- the work calendar --------------------------------------------------------------------------

def calendar_data(cal: WorkCalendar) -> dict:
    return {"year": cal.year, "holidays": [d.isoformat() for d in sorted(cal.holidays)],
            "collective_leave": [d.isoformat() for d in sorted(cal.collective_leave)],
            "working_weekdays": cal.working_weekdays, "target_minutes_per_day": cal.target_minutes_per_day,
            "version": cal.version}


@dataclass
class CalendarChange:
    calendar: WorkCalendar
    changed: bool
    recomputed_days: int = 0
    skipped_locked_days: int = 0


def put_calendar(uow: UnitOfWork, proposed: WorkCalendar, actor: str, today: date,
                 expected_version: int | None = None) -> CalendarChange:
    """Store a new version of a year's calendar (audited, announced as calendar.updated). Days
    already recorded on a date that became, or stopped being, a working day are evaluated again
    (a new version each, announced when the codes change), except in locked months. A PUT of the
    same document changes nothing. ``expected_version``: refuse if someone stored another meanwhile."""
    s = uow.session
    serialize_attendance_writers(s)
    row = s.get(WorkCalendarRow, proposed.year, with_for_update=True)
    old = WorkCalendar.from_document(row.document, row.version) if row else WorkCalendar(proposed.year)
    if expected_version is not None and expected_version != old.version:
        raise DomainError("stale_version", Text(f"Kalender sudah diubah orang lain (versi {old.version}); muat ulang",
                                                f"The calendar was changed meanwhile (version {old.version}); reload it"),
                          status=409)
    document = proposed.document()
    if row is not None and document == row.document:
        return CalendarChange(old, changed=False)
    version = (row.version if row else 0) + 1
    now = utcnow()
    if row is None:
        row = WorkCalendarRow(year=proposed.year)
        s.add(row)
    row.document, row.version, row.updated_at, row.updated_by = document, version, now, actor
    s.add(CalendarAudit(year=proposed.year, version=version, document=document, changed_by=actor, changed_at=now,
                        request_id=uow.correlation_id))
    s.flush()
    new = WorkCalendar.from_document(document, version)
    uow.publish("calendar.updated", calendar_data(new))
    moved = sorted(d for d in old.non_working_dates() ^ new.non_working_dates() if d <= today)
    result = CalendarChange(new, changed=True)
    if moved:
        stored = _load_days_on(s, moved)
        changes = [Change(employee_id=e, date=d, recompute=True) for (e, d) in stored]
        p = plan(s, changes, lambda year: new if year == new.year else load_calendar(s, year), today, stored,
                 skip_locked=True)
        write(uow, p, source="calendar", actor=actor)
        result.recomputed_days = p.changed
        result.skipped_locked_days = len(p.locked)
    return result


def calendar_history(session: Session, year: int) -> list[CalendarAudit]:
    return list(session.scalars(select(CalendarAudit).where(CalendarAudit.year == year).order_by(CalendarAudit.version)))


# -- planning and writing employee-days ---------------------------------------------------------

class DayState(NamedTuple):
    check_in: time | None
    check_out: time | None
    device_code: str | None
    leave_code: str | None
    leave_id: str | None
    codes: str
    deduction: Decimal
    version: int
    published_codes: str
    published_deduction: Decimal


class Change(NamedTuple):
    """What one source says about one employee-day. ``set_device`` replaces the device's punches
    and code; ``set_leave`` replaces BKD's leave code; ``recompute`` re-evaluates the stored
    inputs (after a calendar change). ``key`` names the source row in error messages."""

    employee_id: str
    date: date
    key: str | None = None
    set_device: bool = False
    check_in: time | None = None
    check_out: time | None = None
    device_code: str | None = None
    set_leave: bool = False
    leave_code: str | None = None
    leave_id: str | None = None
    recompute: bool = False


@dataclass
class Plan:
    new_days: list[tuple] = field(default_factory=list)  # employee-days never recorded before
    days: list[tuple] = field(default_factory=list)      # new versions of recorded ones
    history: list[tuple] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    deltas: Deltas = field(default_factory=Deltas)
    changed: int = 0
    unchanged: int = 0
    # Changes of days in months BPKAD locked: planned like any other (payroll turns them into a
    # correction, rapel, in its next open month), counted so that the answer can say so...
    locked_month_days: int = 0
    # ... except where the writer skips them (a calendar change: payroll keeps a locked month's
    # working days, so re-evaluating its days would correct what payroll never corrects).
    locked: list[Change] = field(default_factory=list)


def _state(row) -> DayState:
    return DayState(row.check_in, row.check_out, row.device_code, row.leave_code, row.leave_id, row.codes,
                    Decimal(row.deduction_pct), row.version, row.published_codes, Decimal(row.published_deduction))


_DAY_SELECT = [getattr(AttendanceDay, c) for c in DAY_COLUMNS if c != "updated_at"]


def _load_days(session: Session, keys: set[tuple[str, date]]) -> dict[tuple[str, date], DayState]:
    """The stored state of these employee-days (the caller holds the attendance writers' lock)."""
    found: dict[tuple[str, date], DayState] = {}
    if not keys:
        return found
    employees = sorted({k[0] for k in keys})
    dates = sorted({k[1] for k in keys})
    for i in range(0, len(employees), CHUNK):
        rows = session.execute(select(*_DAY_SELECT).where(AttendanceDay.employee_id.in_(employees[i:i + CHUNK]),
                                                          AttendanceDay.date.in_(dates)))
        for row in rows:
            if (row.employee_id, row.date) in keys:
                found[(row.employee_id, row.date)] = _state(row)
    return found


def _load_days_on(session: Session, dates: list[date]) -> dict[tuple[str, date], DayState]:
    rows = session.execute(select(*_DAY_SELECT).where(AttendanceDay.date.in_(dates)))
    return {(row.employee_id, row.date): _state(row) for row in rows}


def plan(session: Session, changes: list[Change], calendar_for, today: date,
         stored: dict[tuple[str, date], DayState] | None = None, skip_locked: bool = False) -> Plan:
    """New versions for the employee-days whose inputs (or, on recompute, whose codes) change.
    A day is over once ``today`` has moved past it (see attendance.evaluate).

    A day of a month BPKAD locked is a correction like any other (DOMAIN.md: "a corrected
    attendance day becomes a correction line in the next open month"): planned, announced, and
    counted in ``locked_month_days``; with ``skip_locked`` it is left out (``locked``) instead."""
    if stored is None:
        stored = _load_days(session, {(c.employee_id, c.date) for c in changes})
    locked = locked_months(session)
    now = utcnow()
    zero = Decimal(0)
    evaluate, pct_text = attendance.evaluate, attendance.pct_text
    p = Plan()
    for ch in changes:
        key = (ch.employee_id, ch.date)
        old = stored.get(key)
        if ch.recompute and old is None:
            continue
        if ch.set_device:
            ci, co, dc = ch.check_in, ch.check_out, ch.device_code
        elif old is not None:
            ci, co, dc = old.check_in, old.check_out, old.device_code
        else:
            ci = co = dc = None
        if ch.set_leave:
            lc, lid = ch.leave_code, ch.leave_id
        elif old is not None:
            lc, lid = old.leave_code, old.leave_id
        else:
            lc = lid = None
        if old is not None and not ch.recompute and (ci, co, dc, lc, lid) == old[:5]:  # old[:5]: its inputs
            p.unchanged += 1
            continue
        verdict = evaluate(ch.date, ci, co, lc or dc, calendar_for(ch.date.year), ch.date < today)
        codes = ",".join(verdict.codes)
        if ch.recompute and old is not None and codes == old.codes and verdict.deduction == old.deduction:
            p.unchanged += 1
            continue
        if (ch.date.year, ch.date.month) in locked:
            if skip_locked:
                p.locked.append(ch)
                continue
            p.locked_month_days += 1
        if old is not None:
            version = old.version + 1
            published = (old.published_codes, old.published_deduction)
            p.deltas.day(ch.employee_id, ch.date, old.codes.split(",") if old.codes else (), old.deduction, -1)
        else:
            version = 1
            published = ("", zero)
        if codes != published[0] or verdict.deduction != published[1]:
            # Only a change of what payroll counts is announced: a first on-time day is what
            # payroll assumes of a day it never heard of, so a month of them costs no events.
            p.events.append({"employee_id": ch.employee_id, "date": ch.date.isoformat(), "codes": list(verdict.codes),
                             "deduction_pct": pct_text(verdict.deduction), "version": version})
            published = (codes, verdict.deduction)
        p.deltas.day(ch.employee_id, ch.date, verdict.codes, verdict.deduction, 1)
        (p.days if old is not None else p.new_days).append(
            (ch.employee_id, ch.date, ci, co, dc, lc, lid, codes, verdict.deduction, version, published[0], published[1], now))
        p.history.append((ch.employee_id, ch.date, version, ci, co, dc, lc, codes, verdict.deduction))
        # A later change of the same day in this plan builds on this one.
        stored[key] = DayState(ci, co, dc, lc, lid, codes, verdict.deduction, version, published[0], published[1])
        p.changed += 1
    return p


def write(uow: UnitOfWork, p: Plan, source: str, actor: str, import_id: str | None = None) -> None:
    s = uow.session
    now = utcnow()
    # The same employee-day may appear twice in one plan; the last state is what is stored,
    # every version is history. Days never recorded go straight in (COPY, no conflict possible:
    # the writers' lock is held); recorded ones are replaced through an upsert.
    latest_new = {(d[0], d[1]): d for d in p.new_days}
    latest = {(d[0], d[1]): d for d in p.days}
    for key in set(latest_new) & set(latest):
        latest_new[key] = latest.pop(key)  # first recorded within this very plan: insert its last state
    bulk.insert_rows(s, AttendanceDay.__table__, DAY_COLUMNS, list(latest_new.values()))
    bulk.upsert_rows(s, AttendanceDay.__table__, DAY_COLUMNS, ("employee_id", "date"), list(latest.values()))
    bulk.insert_rows(s, AttendanceRecord.__table__, HISTORY_COLUMNS,
                     [(*h, source, import_id, actor, now) for h in p.history])
    bulk.publish_many(uow, "attendance.recorded", p.events)
    p.deltas.write(s)


# -- imports and device pushes ------------------------------------------------------------------

@dataclass
class ImportReport:
    import_id: str
    rows: int
    changed: int
    unchanged: int
    rejected: int
    events: int
    errors: dict[str, Text]
    locked_month_days: int = 0  # changed days of locked months: payroll corrects them (rapel)


def _line_order(key: str) -> tuple:
    parts = key.split(".")
    return (parts[0], int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1, key)


def _row_key(field_key: str) -> str:
    return ".".join(field_key.split(".")[:2])


def import_rows(uow: UnitOfWork, raw_rows: list[RawRow], parse_errors: dict[str, Text], *, source: str,
                filename: str | None, digest: str, actor: str, partial: bool, today: date) -> ImportReport:
    """Import attendance rows from a device file or a device push.

    All-or-nothing by default: if any row is bad, nothing is stored and every problem is listed
    with its row (422 ``import_rejected``). With ``partial`` the good rows are imported and the
    bad ones reported. Rows equal to what is stored change nothing. A row that changes a day of a
    month BPKAD locked is a correction: stored and announced like any other, and counted in
    ``locked_month_days`` (payroll pays or recovers the difference in its next open month)."""
    s = uow.session
    if "file" in parse_errors:
        raise ValidationFailed({"file": parse_errors["file"]}, "import_rejected")
    serialize_attendance_writers(s)
    calendars = Calendars(s)
    check = attendance.check_rows(raw_rows, employees_by_nip(s, {attendance.normalize_nip(r.nip) for r in raw_rows}),
                                  calendars, today)
    errors = {**parse_errors, **check.flat_errors()}
    changes = [Change(employee_id=r.employee_id, date=r.date, key=r.key, set_device=True, check_in=r.check_in,
                      check_out=r.check_out, device_code=r.code) for r in check.rows]
    p = plan(s, changes, calendars, today)
    all_errors = dict(sorted(errors.items(), key=lambda kv: _line_order(kv[0])))
    rejected = len({_row_key(k) for k in all_errors})
    if all_errors and not partial:
        raise DomainError("import_rejected",
                          Text(f"Data presensi ditolak: {rejected} baris bermasalah; tidak ada yang diimpor",
                               f"Attendance data rejected: {rejected} bad rows; nothing was imported"),
                          all_errors, status=422)
    record = AttendanceImport(source=source, filename=filename, sha256=digest, submitted_by=actor,
                              submitted_at=utcnow(), partial=partial, rows=len(raw_rows) + len(parse_errors),
                              changed=p.changed, unchanged=p.unchanged, rejected=rejected, events=len(p.events))
    s.add(record)
    s.flush()
    write(uow, p, source=source, actor=actor, import_id=record.id)
    return ImportReport(record.id, record.rows, p.changed, p.unchanged, rejected, len(p.events), all_errors,
                        p.locked_month_days)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- BKD's own entries: leave codes and closing a day -------------------------------------------

MAX_LEAVE_DAYS = 366


def _employee(session: Session, employee_id: str | None, nip: str | None, field_name: str) -> Employee:
    row = None
    if employee_id:
        row = session.get(Employee, employee_id)
    elif nip:
        ids = employees_by_nip(session, {attendance.normalize_nip(nip)})
        found = ids.get(attendance.normalize_nip(nip))
        row = session.get(Employee, found) if found else None
    if row is None:
        raise ValidationFailed({field_name: Text("Pegawai tidak dikenal", "Unknown employee")})
    return row


def _check_open(session: Session, first: date, last: date) -> None:
    locked = locked_months(session)
    month = first.replace(day=1)
    while month <= last:
        if (month.year, month.month) in locked:
            raise domain.period_locked_error()
        month = (month + timedelta(days=32)).replace(day=1)


def enter_leave(uow: UnitOfWork, store: evidence.EvidenceStore, *, employee_id: str | None, nip: str | None,
                code: str, start: date, end: date | None, note: str | None, upload: tuple[str, bytes] | None,
                actor: str, policy: domain.EntryRules, today: date) -> tuple[LeaveRecord, Evidence | None, int, int]:
    """BKD records a leave or duty code (cuti, sakit, dinas luar, ...) for the working days of a
    date range, optionally with its evidence. Each day gets a new version with the code, which
    excuses it whatever the device says; days of a locked month too (a correction: payroll pays
    it back in its next open month). Returns the record, its evidence, the days changed and how
    many of them lie in locked months."""
    s = uow.session
    end = end or start
    code = code.strip().upper()
    errors: dict[str, Text] = {}
    emp = None
    try:
        emp = _employee(s, employee_id, nip, "nip" if nip and not employee_id else "employee_id")
    except ValidationFailed as exc:
        errors.update(exc.fields)
    if end < start:
        errors["end_date"] = Text("Tanggal akhir harus sama dengan atau setelah tanggal mulai", "The end date must not be before the start date")
    elif (end - start).days >= MAX_LEAVE_DAYS:
        errors["end_date"] = Text(f"Rentang maksimal {MAX_LEAVE_DAYS} hari; catat sisanya terpisah",
                                  f"At most {MAX_LEAVE_DAYS} days at once; record the rest separately")
    calendars = Calendars(s)
    for year in {start.year, end.year}:
        allowed = calendars(year).excused_codes
        if code not in allowed:
            errors["code"] = Text(f"Kode {code} tidak dikenal (yang berlaku: {', '.join(sorted(allowed))})",
                                  f"Unknown code {code} (valid: {', '.join(sorted(allowed))})")
    content_type = None
    if upload is not None:
        try:
            content_type = evidence.check_upload(upload[0], upload[1], policy.evidence_max_bytes)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(errors)
    assert emp is not None
    serialize_attendance_writers(s)
    clash = s.scalar(select(LeaveRecord.id).where(LeaveRecord.employee_id == emp.employee_id,
                                                  LeaveRecord.cancelled_at.is_(None),
                                                  LeaveRecord.start_date <= end, LeaveRecord.end_date >= start))
    if clash is not None:
        raise Conflict("leave_overlap", Text("Pegawai sudah memiliki cuti/tugas yang tercatat pada rentang tanggal ini",
                                             "The employee already has a leave or duty recorded in this date range"))
    leave = LeaveRecord(employee_id=emp.employee_id, code=code, start_date=start, end_date=end,
                        note=(note or "").strip() or None, entered_by=actor, entered_at=utcnow())
    s.add(leave)
    s.flush()
    stored_evidence = None
    if upload is not None and content_type is not None:
        stored_evidence = repository.store_evidence(uow, store, upload[1], Evidence(
            employee_id=emp.employee_id, leave_id=leave.id, filename=evidence.display_name(upload[0]),
            content_type=content_type, uploaded_by=actor))
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    changes = [Change(employee_id=emp.employee_id, date=d, set_leave=True, leave_code=code, leave_id=leave.id)
               for d in days if calendars(d.year).is_working_day(d)]
    p = plan(s, changes, calendars, today)
    write(uow, p, source="leave", actor=actor)
    return leave, stored_evidence, p.changed, p.locked_month_days


def cancel_leave(uow: UnitOfWork, leave_id: str, actor: str, today: date) -> tuple[LeaveRecord, int, int]:
    """Withdraw a leave record: its days lose the code (a new version each; in a locked month too,
    a correction); the record stays. Returns it, the days changed and those in locked months."""
    s = uow.session
    serialize_attendance_writers(s)
    leave = s.get(LeaveRecord, leave_id, with_for_update=True)
    if leave is None:
        raise NotFound(Text("Catatan cuti tidak ditemukan", "Leave record not found"))
    if leave.cancelled_at is not None:
        return leave, 0, 0
    leave.cancelled_at, leave.cancelled_by = utcnow(), actor
    days = s.scalars(select(AttendanceDay.date).where(AttendanceDay.employee_id == leave.employee_id,
                                                      AttendanceDay.leave_id == leave.id)).all()
    changes = [Change(employee_id=leave.employee_id, date=d, set_leave=True) for d in days]
    p = plan(s, changes, Calendars(s), today)
    write(uow, p, source="leave", actor=actor)
    return leave, p.changed, p.locked_month_days


def close_day(uow: UnitOfWork, day: date, actor: str, today: date) -> int:
    """Mark TK every employee who was placed in a post on ``day`` (a working day) but has no
    attendance record for it at all, and settle the day's provisional records (a punch pushed
    during the day with no check-out yet becomes PSW4). Run after the day's file is in; running
    it again changes only what is still open. A late record for a marked day is a correction (a
    new version). Returns how many employee-days changed.

    Not in a month BPKAD locked (409): closing a day is part of getting a month ready, not a
    correction — marking people absent after the month was paid would recover allowance for days
    nobody ever recorded (a missing record is what payroll already paid as full discipline)."""
    s = uow.session
    if day >= today:
        raise ValidationFailed({"date": Text("Hanya hari yang sudah lewat yang dapat ditutup", "Only a past day can be closed")})
    calendars = Calendars(s)
    if not calendars(day.year).is_working_day(day):
        raise ValidationFailed({"date": Text("Tanggal ini bukan hari kerja", "This date is not a working day")})
    _check_open(s, day, day)
    serialize_attendance_writers(s)
    placed = exists().where(Placement.employee_id == Employee.employee_id, Placement.start_date <= day,
                            or_(Placement.end_date.is_(None), Placement.end_date >= day))
    recorded = exists().where(and_(AttendanceDay.employee_id == Employee.employee_id, AttendanceDay.date == day))
    missing = s.scalars(select(Employee.employee_id).where(Employee.active.is_(True), placed, ~recorded)).all()
    stored = _load_days_on(s, [day])
    changes = [Change(employee_id=e, date=day, recompute=True) for e, _ in stored]
    changes += [Change(employee_id=e, date=day, set_device=True) for e in missing]
    p = plan(s, changes, calendars, today, stored)
    write(uow, p, source="close", actor=actor)
    s.add(ClosedDay(date=day, closed_by=actor, closed_at=utcnow(), marked=p.changed))
    s.flush()
    return p.changed


# -- reading ------------------------------------------------------------------------------------

def month_days(session: Session, employee_id: str, first: date, after: date) -> list[AttendanceDay]:
    return list(session.scalars(select(AttendanceDay).where(AttendanceDay.employee_id == employee_id,
                                                            AttendanceDay.date >= first, AttendanceDay.date < after)
                                .order_by(AttendanceDay.date)))


def day_history(session: Session, employee_id: str, day: date) -> tuple[AttendanceDay, list[AttendanceRecord]]:
    current = session.get(AttendanceDay, (employee_id, day))
    if current is None:
        raise NotFound(Text("Tidak ada presensi untuk hari ini", "No attendance recorded for this day"))
    history = session.scalars(select(AttendanceRecord).where(AttendanceRecord.employee_id == employee_id,
                                                             AttendanceRecord.date == day)
                              .order_by(AttendanceRecord.version)).all()
    return current, list(history)


# -- devices --------------------------------------------------------------------------------------

def register_device(uow: UnitOfWork, name: str, actor: str) -> tuple[Device, str]:
    """A new device account; its key is returned once and stored only as a hash."""
    key = secrets.token_urlsafe(32)
    device = Device(name=name.strip(), key_hash=sha256(key.encode()), active=True, created_by=actor, created_at=utcnow())
    uow.session.add(device)
    uow.session.flush()
    return device, key


def device_for_key(session: Session, key: str) -> Device | None:
    device = session.scalar(select(Device).where(Device.key_hash == sha256(key.encode())))
    return device if device is not None and device.active else None


def revoke_device(uow: UnitOfWork, device_id: str) -> Device:
    device = uow.session.get(Device, device_id, with_for_update=True)
    if device is None:
        raise NotFound(Text("Perangkat tidak ditemukan", "Device not found"))
    device.active = False
    uow.session.flush()
    return device
