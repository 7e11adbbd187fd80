"""Handlers of incoming events: keep the read models a TPP run needs current.

Idempotency is the consumer's job (processed message ids); staleness is ours: every row keeps the
version of the event that wrote it, and an event carrying an older or equal version changes
nothing. Events of different aggregates may come in any order (a placement before its employee,
an approval before the position, an appeal's outcome before the rejection it overturns), so no
handler requires another row to exist.

Every change to a month's data (decision, appeal outcome, attendance day) is noted for that month
(``repository.note_change``) in the same transaction: a month already computed then knows it is
out of date, and a locked month gets a correction line in a later month, naming this event.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from ekinerja_common.consumer import Handler
from ekinerja_common.auth_store import on_account_revoked
from ekinerja_common.envelope import utcnow
from ekinerja_common.events import (ActivityDecided, AppealDecided, AttendanceRecorded, CalendarUpdated, EmployeeData,
                                    Event, PlacementData, PositionData, UnitData)
from ekinerja_common.uow import UnitOfWork
from ekinerja_common.workdays import MONDAY_TO_FRIDAY

from . import repository
from .orm import (ActivityDecision, AttendanceCode, AttendanceDay, Base, Employee, Placement, Position, Unit,
                  WorkCalendarRow)


def _upsert(session: Session, model: type[Base], key: dict[str, Any], version: int, values: dict[str, Any]) -> tuple[bool, dict[str, Any] | None]:
    """Apply ``values`` unless the stored row is as new or newer. Returns whether it was applied
    and the row's previous values (None when it is new)."""
    row = session.get(model, key, with_for_update=True)
    if row is not None and row.version >= version:
        return False, None
    before = None
    if row is None:
        row = model(**key)
        session.add(row)
    else:
        before = {name: getattr(row, name) for name in values}
    for name, value in values.items():
        setattr(row, name, value)
    row.version = version
    return True, before


def _noted(session: Session, event: Event, employee_id: str, days: set[date], cause_ref: str | None = None) -> None:
    """Note the change once per month it touches (months in order, so two handlers touching the
    same months take their period locks in the same order). ``cause_ref`` names what the event is
    about where the words of a correction need it (the appeal)."""
    first_day: dict[tuple[int, int], date] = {}
    for day in sorted(days):
        first_day.setdefault((day.year, day.month), day)
    for (year, month), day in sorted(first_day.items()):
        repository.note_change(session, employee_id, year, month, day, event.id, event.type, cause_ref)


def on_employee(uow: UnitOfWork, event: Event[EmployeeData]) -> None:
    d = event.data
    values = {"nip": d.nip, "name": d.name, "employee_kind": d.employee_kind, "status": d.status,
              "golongan": d.golongan or "", "active": d.active}
    # identity sends it since employee events carry bank_account; an older event without it keeps
    # the stored value.
    if "bank_account" in d.model_fields_set:
        values["bank_account"] = d.bank_account
    _upsert(uow.session, Employee, {"employee_id": d.employee_id}, d.version, values)


def on_employee_placed(uow: UnitOfWork, event: Event[PlacementData]) -> None:
    d = event.data
    _upsert(uow.session, Placement, {"placement_id": d.placement_id}, d.version, {
        "employee_id": d.employee_id, "position_id": d.position_id, "start_date": d.start_date,
        "end_date": d.end_date, "kind": d.kind,
    })


def on_position(uow: UnitOfWork, event: Event[PositionData]) -> None:
    d = event.data
    _upsert(uow.session, Position, {"position_id": d.position_id}, d.version, {
        "code": d.code, "name": d.name, "kind": d.kind, "kelas_jabatan": d.kelas_jabatan,
        "parent_id": d.parent_id, "unit_id": d.unit_id,
        "factor": d.factor if d.factor is not None else Decimal(1),
    })


def on_unit(uow: UnitOfWork, event: Event[UnitData]) -> None:
    """A unit's code and name for the recap. Display only: no month's figures depend on it, so
    nothing is noted."""
    d = event.data
    _upsert(uow.session, Unit, {"unit_id": d.unit_id}, d.version, {
        "code": d.code, "name": d.name, "kind": d.kind, "parent_id": d.parent_id, "active": d.active,
    })


def on_decision(status: str) -> Handler:
    """approved, rejected and returned all land on the entry's one row, so whichever decision has
    the highest version is the one that counts, whatever order they arrive in."""

    def handle(uow: UnitOfWork, event: Event[ActivityDecided]) -> None:
        d = event.data
        _decided(uow.session, event, d.entry_id, d.employee_id, d.date, d.credited_minutes, status, d.version,
                 d.decided_by, d.decided_at)

    return handle


def _decided(session: Session, event: Event, entry_id: str, employee_id: str, day: date, minutes: int,
             status: str, version: int, decided_by: str, decided_at: datetime, cause_ref: str | None = None) -> None:
    applied, before = _upsert(session, ActivityDecision, {"entry_id": entry_id}, version, {
        "employee_id": employee_id, "day": day, "credited_minutes": minutes, "status": status,
        "decided_by": decided_by, "decided_at": decided_at,
    })
    if applied:
        days = {day} | ({before["day"]} if before else set())
        _noted(session, event, employee_id, days, cause_ref)


def on_appeal_decided(uow: UnitOfWork, event: Event[AppealDecided]) -> None:
    """An overturn is a decision on the entry (numbered above the rejection, so a late rejection
    cannot undo it): its minutes count, and a locked month's correction names the appeal. An
    upheld appeal changes nothing: the rejection stands."""
    d = event.data
    if d.outcome != "overturned":
        return
    for item in d.entries:
        _decided(uow.session, event, item.entry_id, d.employee_id, item.date, item.credited_minutes, "overturned",
                 item.version, d.decided_by, d.decided_at, cause_ref=d.appeal_id)


def on_attendance(uow: UnitOfWork, event: Event[AttendanceRecorded]) -> None:
    d, session = event.data, uow.session
    employee_id, day = d.employee_id, d.date
    codes = [c.strip().upper() for c in d.codes]
    applied, before = _upsert(session, AttendanceDay, {"employee_id": employee_id, "day": day}, d.version,
                              {"codes": codes, "deduction_pct": d.deduction_pct})
    if not applied:
        return
    session.execute(delete(AttendanceCode).where(AttendanceCode.employee_id == employee_id, AttendanceCode.day == day))
    if codes:
        session.execute(insert(AttendanceCode), [{"employee_id": employee_id, "day": day, "seq": n, "code": code[:20]}
                                                 for n, code in enumerate(codes)])
    # A day of a locked month (activity accepts corrections after the lock) becomes a correction
    # in the next open month; the note keeps the day and its codes before and after, so that the
    # correction's cause can say "presensi 5 Okt 2026 dikoreksi: TL2 → tepat waktu".
    repository.note_change(session, employee_id, day.year, day.month, day, event.id, event.type,
                           detail={"codes": codes, "previous_codes": list(before["codes"]) if before else None})


def on_calendar(uow: UnitOfWork, event: Event[CalendarUpdated]) -> None:
    """BKD's work calendar of a year: upserted by year, a version older than (or as old as) the
    stored one changes nothing. It is a fact of the calendar, not a change to any employee's month
    data, so nothing is noted: an open month uses it from its next compute, a locked month keeps
    the working days and minutes it was locked with (README "The month's target").

    ``working_weekdays`` and ``target_minutes_per_day`` are optional in the catalogue: absent, the
    weekdays are Monday to Friday and the daily target the shared default (300 minutes). Data
    activity would never send (a weekday outside 1–7, a date of another year, a target outside
    1–1440) does not fit the model and is dead-lettered instead of silently bending every target."""
    d = event.data
    weekdays = d.working_weekdays if d.working_weekdays is not None else sorted(MONDAY_TO_FRIDAY)
    _upsert(uow.session, WorkCalendarRow, {"year": d.year}, d.version, {
        "working_weekdays": sorted(set(weekdays)),
        "holidays": sorted({day.isoformat() for day in d.holidays}),
        "collective_leave": sorted({day.isoformat() for day in d.collective_leave}),
        "target_minutes_per_day": d.target_minutes_per_day, "event_id": event.id, "received_at": utcnow(),
    })


HANDLERS: dict[str, Handler] = {
    "account.revoked": on_account_revoked,
    "employee.registered": on_employee,
    "employee.updated": on_employee,
    "employee.placed": on_employee_placed,
    "position.created": on_position,
    "position.updated": on_position,
    "unit.created": on_unit,
    "unit.updated": on_unit,
    "activity.approved": on_decision("approved"),
    "activity.rejected": on_decision("rejected"),
    "activity.returned": on_decision("returned"),
    "appeal.decided": on_appeal_decided,
    "attendance.recorded": on_attendance,
    "calendar.updated": on_calendar,
}
