"""HTTP entry point of attendance (presensi) and of the work calendar. BKD (``admin_bkd``) imports,
corrects, closes days and sets the calendar; attendance devices push with their own key; every
employee reads their own days."""
from __future__ import annotations

from datetime import date, time
from typing import Annotated, Any

from flask import Blueprint, g, request
from pydantic import BeforeValidator, Field

from ekinerja_common.auth import Principal
from sqlalchemy import select

from ekinerja_common import idempotency
from ekinerja_common import preview
from ekinerja_common.errors import NotFound, Text, Unauthorized, ValidationFailed
from ekinerja_common.web import accepts, principal
from ekinerja_common import clock, discipline

from . import attendance, attendance_services as att, repository
from ekinerja_common.evidence import EvidenceStore
from .http import (Strict, bkd, current_policy, evidence_json, evidence_store, hhmm, json_or_form, query_month, runtime,
                   uploaded_file)
from .orm import AttendanceDay, AttendanceRecord, CalendarAudit, Device, LeaveRecord, WorkCalendarRow

bp = Blueprint("attendance", __name__)

HHMM = Annotated[time, BeforeValidator(hhmm)]

# -- bodies -------------------------------------------------------------------------------------


class HoursIn(Strict):
    start: HHMM
    end: HHMM


class DatedNameIn(Strict):
    date: date
    name: str = Field(min_length=1, max_length=200)


class CalendarIn(Strict):
    """A year's calendar, the whole document (PUT replaces it). Missing rule fields take the
    defaults. ``version``, when given, must be the current one (else 409: someone changed it
    meanwhile). The read-only fields of GET may be sent back and are ignored."""

    year: int | None = None
    version: int | None = None
    schedule: dict[int, HoursIn]
    holidays: list[DatedNameIn] = Field(max_length=366)
    collective_leave: list[DatedNameIn] = Field(max_length=366)
    target_minutes_per_day: int = attendance.DEFAULT_TARGET_MINUTES
    late_bands: list[int] = Field(default_factory=lambda: list(attendance.DEFAULT_LATE_BANDS))
    excused_codes: dict[str, str] = Field(default_factory=lambda: dict(attendance.DEFAULT_EXCUSED))
    # read-only (GET), ignored. The deduction table is BPKAD's: edited in payroll's policy
    # (discipline_deductions_pct), shown here as payroll announced it.
    deductions: Any = None
    deductions_source: Any = None
    deductions_policy_version: Any = None
    is_default: Any = None
    working_weekdays: Any = None
    working_days: Any = None
    updated_at: Any = None
    updated_by: Any = None


class RecordIn(Strict):
    """One employee-day from a device. Values stay text here: the same row checks as the file
    import judge them (so both report the same errors)."""

    nip: str = Field(max_length=40)
    date: str = Field(max_length=20)
    check_in: str | None = Field(default=None, max_length=20)
    check_out: str | None = Field(default=None, max_length=20)
    code: str | None = Field(default=None, max_length=20)


class RecordsIn(Strict):
    records: list[RecordIn] = Field(min_length=1, max_length=50_000)


class LeaveIn(Strict):
    employee_id: str | None = Field(default=None, max_length=36)
    nip: str | None = Field(default=None, max_length=40)
    code: str = Field(min_length=1, max_length=10)
    start_date: date
    end_date: date | None = None
    note: str | None = Field(default=None, max_length=1000)


class CloseDayIn(Strict):
    date: date


class DeviceIn(Strict):
    name: str = Field(min_length=1, max_length=100)


# -- who is calling -----------------------------------------------------------------------------



def _partial() -> bool:
    raw = (request.args.get("partial") or "false").lower()
    if raw not in ("true", "false", "1", "0"):
        raise ValidationFailed({"partial": Text("Harus true atau false", "Must be true or false")})
    return raw in ("true", "1")


# -- JSON -----------------------------------------------------------------------------------------

def calendar_json(session, year: int) -> dict:
    """The year's calendar as GET /calendar/{year} shows it. ``is_default``: BKD has not stored
    this year yet (Monday to Friday less the fixed-date national holidays; the moving holidays and
    cuti bersama are missing), so BKD's dashboard warns. ``deductions`` (read-only) is BPKAD's
    table from payroll, ``deductions_source`` ``payroll`` or ``default``."""
    cal = repository.load_calendar(session, year)
    table, policy_version = repository.deduction_table(session, year)
    row = session.get(WorkCalendarRow, year)
    # is_default: BKD has never stored this year; every figure above is the default calendar
    # (Monday to Friday less the fixed-date national holidays, ekinerja_common.workdays), which
    # activity and payroll both use until it is stored. The dashboard warns on it.
    return {**cal.document(), "version": cal.version, "is_default": cal.is_default,
            "working_weekdays": cal.working_weekdays,
            "working_days": {f"{m:02d}": cal.working_days(m) for m in range(1, 13)},
            "deductions": discipline.table_text(table),
            "deductions_source": "default" if policy_version is None else "payroll",
            "deductions_policy_version": policy_version,
            "updated_at": row.updated_at.isoformat() if row else None, "updated_by": row.updated_by if row else None}


def _t(value) -> str | None:
    return value.strftime("%H:%M:%S") if value is not None else None


def day_json(d: AttendanceDay) -> dict:
    return {"employee_id": d.employee_id, "date": d.date.isoformat(), "check_in": _t(d.check_in),
            "check_out": _t(d.check_out), "device_code": d.device_code, "leave_code": d.leave_code,
            "leave_id": d.leave_id, "codes": d.codes.split(",") if d.codes else [],
            "deduction_pct": attendance.pct_text(d.deduction_pct), "version": d.version}


def record_json(r: AttendanceRecord) -> dict:
    return {"version": r.version, "check_in": _t(r.check_in), "check_out": _t(r.check_out),
            "device_code": r.device_code, "leave_code": r.leave_code, "codes": r.codes.split(",") if r.codes else [],
            "deduction_pct": attendance.pct_text(r.deduction_pct), "source": r.source, "import_id": r.import_id,
            "recorded_by": r.recorded_by, "recorded_at": r.recorded_at.isoformat()}


def leave_json(leave: LeaveRecord) -> dict:
    return {"id": leave.id, "employee_id": leave.employee_id, "code": leave.code,
            "start_date": leave.start_date.isoformat(), "end_date": leave.end_date.isoformat(), "note": leave.note,
            "entered_by": leave.entered_by, "entered_at": leave.entered_at.isoformat(),
            "cancelled_at": leave.cancelled_at.isoformat() if leave.cancelled_at else None}


def report_json(r: att.ImportReport) -> dict:
    return {"import_id": r.import_id, "rows": r.rows, "changed": r.changed, "unchanged": r.unchanged,
            "rejected": r.rejected, "events": r.events, "locked_month_days": r.locked_month_days,
            "errors": {name: t.as_json() for name, t in r.errors.items()}}


def device_json(d: Device) -> dict:
    return {"id": d.id, "name": d.name, "active": d.active, "created_at": d.created_at.isoformat()}


# -- the work calendar ----------------------------------------------------------------------------

def _year(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise ValidationFailed({"year": Text("Tahun harus 2000 sampai 2100", "The year must be 2000 to 2100")})
    return year


@bp.get("/calendar/<int:year>")
def get_calendar(year: int):
    """A year's work calendar and discipline rules (defaults until BKD sets them): working
    weekdays with their hours, holidays, collective leave, daily target, deductions, codes."""
    principal()
    with runtime().session_factory() as s:
        return calendar_json(s, _year(year))


@bp.put("/calendar/<int:year>")
@accepts(CalendarIn)
def put_calendar(year: int, body: CalendarIn):
    """Replace a year's calendar (admin_bkd): audited, announced as calendar.updated; days already
    recorded on a date that became or stopped being a working day are evaluated again."""
    who = bkd()
    _year(year)
    if body.year is not None and body.year != year:
        raise ValidationFailed({"year": Text("Tahun tidak sama dengan alamat", "The year differs from the path")})
    proposed = attendance.build_calendar(
        year, {wd: (h.start, h.end) for wd, h in body.schedule.items()},
        [attendance.DatedName(h.date, h.name) for h in body.holidays],
        [attendance.DatedName(h.date, h.name) for h in body.collective_leave],
        body.target_minutes_per_day, tuple(body.late_bands), body.excused_codes, version=0)
    with runtime().uow(g.request_id) as uow:
        result = att.put_calendar(uow, proposed, who.account_id, clock.today(), expected_version=body.version)
        uow.commit()
    with runtime().session_factory() as s:
        out = calendar_json(s, year)
    return {**out, "changed": result.changed, "recomputed_days": result.recomputed_days,
            "skipped_locked_days": result.skipped_locked_days}


@bp.get("/calendar/<int:year>/history")
def calendar_history(year: int):
    """Every stored version of a year's calendar, who stored it and when (admin_bkd)."""
    bkd()
    with runtime().session_factory() as s:
        rows: list[CalendarAudit] = att.calendar_history(s, _year(year))
        return {"year": year, "versions": [{"version": r.version, "changed_by": r.changed_by,
                                            "changed_at": r.changed_at.isoformat(), "request_id": r.request_id,
                                            "document": r.document} for r in rows]}


# -- imports and pushes -------------------------------------------------------------------------

@bp.post("/attendance/import")
@idempotency.idempotent
def import_file():
    """Import a device file (CSV, format in the service README) as multipart field ``file`` or as
    a ``text/csv`` body (admin_bkd). All-or-nothing unless ``?partial=true``; every bad line is
    listed (``lines.<n>.<column>``). Re-importing the same file changes nothing. ``?dry_run=true``:
    the same checks and counts, nothing stored (the preview)."""
    who = bkd()
    partial = _partial()
    dry_run = preview.dry_run_requested(request.args)
    upload = request.files.get("file")
    if upload is not None:
        filename, data = upload.filename or None, upload.stream.read()
    else:
        filename, data = None, request.get_data(cache=False)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed({"file": Text("Berkas harus teks UTF-8 (CSV)", "The file must be UTF-8 text (CSV)")},
                               "import_rejected")
    raw_rows, parse_errors = attendance.parse_csv(text)
    with runtime().uow(g.request_id) as uow:
        report = att.import_rows(uow, raw_rows, parse_errors, source="file", filename=filename, digest=att.sha256(data),
                                 actor=who.account_id, partial=partial, today=clock.today())
        preview.finish(uow, dry_run)
    return {**report_json(report), "dry_run": dry_run}


def _device_or_bkd() -> str:
    """A device's own key (``X-Device-Key``), or a BKD user's token. Returns the actor's name."""
    key = request.headers.get("X-Device-Key")
    if key:
        with runtime().session_factory() as s:
            device = att.device_for_key(s, key)
        if device is None:
            raise Unauthorized(Text("Kunci perangkat tidak valid", "Invalid device key"), "invalid_device_key")
        return f"device:{device.id}"
    return bkd().account_id


@bp.post("/attendance/records")
@accepts(RecordsIn)
def push_records(body: RecordsIn):
    """Device push: ``{records: [{nip, date, check_in, check_out, code?}]}`` with the device's
    ``X-Device-Key`` (or an admin_bkd token). Same checks and all-or-nothing rule as the file
    import (``?partial=true`` too); errors as ``records.<i>.<field>``."""
    actor = _device_or_bkd()
    partial = _partial()
    raw_rows = [attendance.RawRow(f"records.{i}", r.nip, r.date, r.check_in or "", r.check_out or "", r.code or "")
                for i, r in enumerate(body.records)]
    with runtime().uow(g.request_id) as uow:
        report = att.import_rows(uow, raw_rows, {}, source="device", filename=None,
                                 digest=att.sha256(request.get_data()), actor=actor, partial=partial, today=clock.today())
        uow.commit()
    return report_json(report)


@bp.post("/attendance/devices")
@accepts(DeviceIn)
def register_device(body: DeviceIn):
    """Register an attendance device (admin_bkd). Its key is shown in this answer only."""
    who = bkd()
    with runtime().uow(g.request_id) as uow:
        device, key = att.register_device(uow, body.name, who.account_id)
        uow.commit()
    return {**device_json(device), "key": key}, 201


@bp.get("/attendance/devices")
def list_devices():
    """The registered devices (admin_bkd), without their keys."""
    bkd()
    with runtime().session_factory() as s:
        return {"devices": [device_json(d) for d in s.scalars(select(Device).order_by(Device.created_at))]}


@bp.post("/attendance/devices/<device_id>/revoke")
def revoke_device(device_id: str):
    """Stop accepting a device's key (admin_bkd)."""
    bkd()
    with runtime().uow(g.request_id) as uow:
        device = att.revoke_device(uow, device_id)
        uow.commit()
    return device_json(device)


# -- BKD's entries ------------------------------------------------------------------------------

@bp.post("/attendance/leave")
def enter_leave():
    """Record a leave or duty code (CUTI, SAKIT, DL, TB, ...) for an employee (``employee_id`` or
    ``nip``) over ``start_date``..``end_date`` (admin_bkd), as JSON, or as a multipart form with
    the evidence in ``file``. Each working day in the range gets a new version, excused."""
    who = bkd()
    body: LeaveIn = json_or_form(LeaveIn)  # type: ignore[assignment]
    if not body.employee_id and not body.nip:
        raise ValidationFailed({"employee_id": Text("Isi employee_id atau nip", "Give employee_id or nip")})
    upload = uploaded_file(required=False) if request.mimetype == "multipart/form-data" else None
    store: EvidenceStore = evidence_store()
    with runtime().uow(g.request_id) as uow:
        leave, ev, days, locked_days = att.enter_leave(uow, store, employee_id=body.employee_id, nip=body.nip, code=body.code,
                                          start=body.start_date, end=body.end_date, note=body.note, upload=upload,
                                          actor=who.account_id, policy=current_policy(), today=clock.today())
        try:
            uow.commit()
        except Exception:
            if ev is not None:
                store.delete(ev.id)
            raise
    return {**leave_json(leave), "days_changed": days, "locked_month_days": locked_days,
            "evidence": evidence_json(ev) if ev else None}, 201


@bp.delete("/attendance/leave/<leave_id>")
def cancel_leave(leave_id: str):
    """Cancel a leave record (admin_bkd): its days lose the code (a new version each)."""
    who = bkd()
    with runtime().uow(g.request_id) as uow:
        leave, days, locked_days = att.cancel_leave(uow, leave_id, who.account_id, clock.today())
        uow.commit()
    return {**leave_json(leave), "days_changed": days, "locked_month_days": locked_days}


@bp.post("/attendance/close-day")
@accepts(CloseDayIn)
def close_day(body: CloseDayIn):
    """Close a past working day (admin_bkd): everyone placed that day with no record at all is
    marked TK, and records still waiting for a check-out become final. Safe to repeat."""
    who = bkd()
    with runtime().uow(g.request_id) as uow:
        changed = att.close_day(uow, body.date, who.account_id, clock.today())
        uow.commit()
    return {"date": body.date.isoformat(), "changed": changed}


# -- reading ------------------------------------------------------------------------------------

def _subject(who: Principal, employee_id: str | None) -> str:
    """Whose attendance: one's own, or anyone's for BKD. Another's is 404 to everyone else."""
    if employee_id and employee_id != who.employee_id:
        if not who.has("admin_bkd"):
            raise NotFound(Text("Presensi tidak ditemukan", "Attendance not found"))
        return employee_id
    if who.employee_id is None:
        raise ValidationFailed({"employee_id": Text("Wajib diisi", "Required")})
    return who.employee_id


@bp.get("/attendance")
def list_days():
    """The days of ``?month=YYYY-MM`` with their codes: the caller's own, or (admin_bkd) those of
    ``?employee_id=``."""
    who = principal()
    emp = _subject(who, request.args.get("employee_id"))
    first, after = query_month()
    with runtime().session_factory() as s:
        return {"employee_id": emp, "days": [day_json(d) for d in att.month_days(s, emp, first, after)]}


@bp.get("/attendance/<employee_id>/<day>")
def day_detail(employee_id: str, day: str):
    """One employee-day with every version it had (corrections never erase): own, or admin_bkd."""
    who = principal()
    emp = _subject(who, employee_id)
    try:
        on = date.fromisoformat(day)
    except ValueError:
        raise ValidationFailed({"date": Text("Harus berupa tanggal (YYYY-MM-DD)", "Must be a date (YYYY-MM-DD)")})
    with runtime().session_factory() as s:
        current, history = att.day_history(s, emp, on)
        return {**day_json(current), "history": [record_json(r) for r in history]}
