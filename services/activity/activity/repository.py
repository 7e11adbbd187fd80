"""Queries and small persistence helpers both service modules use: calendars, locked months,
NIP lookup, the supervisor line from the read models, storing an evidence file's record."""
from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Any
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ekinerja_common.envelope import utcnow
from ekinerja_common.uow import UnitOfWork
from ekinerja_common import discipline, evidence, supervision_queries

from .attendance import WorkCalendar
from .orm import AttendanceDay, ClosedPeriod, DeductionTable, Employee, Evidence, Placement, Position, WorkCalendarRow

CHUNK = 5000  # bound parameters per IN list (SQLite allows 32,766 per statement)


def deduction_table(session: Session, year: int) -> tuple[dict[str, Decimal], int | None]:
    """BPKAD's deduction table of the year as payroll last announced it, with its policy version;
    the shared default (None) until it does — the table payroll prices with too."""
    row = session.get(DeductionTable, year)
    return deduction_table_of(row.deductions, row.policy_version) if row else (discipline.default_table(), None)


def deduction_table_of(deductions: dict[str, Any] | None, policy_version: int | None) -> tuple[dict[str, Decimal], int | None]:
    """``deduction_table`` from a row's two columns read by another query (None: no row)."""
    if deductions is None:
        return discipline.default_table(), None
    return {code: Decimal(pct) for code, pct in deductions.items()}, policy_version


def load_calendar(session: Session, year: int) -> WorkCalendar:
    """The year's calendar as BKD last set it (or the defaults when it never did), priced with
    BPKAD's deduction table of the year."""
    row = session.get(WorkCalendarRow, year)
    cal = WorkCalendar.from_document(row.document, row.version) if row else WorkCalendar(year)
    return dataclasses.replace(cal, deductions=deduction_table(session, year)[0])


_PARSED: dict[tuple[str, int, int], WorkCalendar] = {}


def calendar_at(session: Session, year: int, version: int | None) -> WorkCalendar:
    """The year's calendar for its working days and target, when its current version is already
    known (``None``: never set). Parsed once per process and version: versions only grow, so a
    cached one is never stale. (Its deductions are not looked up: price with ``deduction_table``.)"""
    if version is None:
        return WorkCalendar(year)
    key = (str(session.get_bind().engine.url), year, version)
    cal = _PARSED.get(key)
    if cal is None:
        row = session.get(WorkCalendarRow, year)
        cal = WorkCalendar.from_document(row.document, row.version) if row else WorkCalendar(year)
        if cal.version == version:
            if len(_PARSED) > 1000:
                _PARSED.clear()
            _PARSED[key] = cal
    return cal


def month_code_days(session: Session, employee_id: str, year: int, month: int) -> dict[str, int]:
    """Days per attendance code of an employee's month (at most a month of rows, by primary key)."""
    first = date(year, month, 1)
    after = (first + timedelta(days=32)).replace(day=1)
    out: dict[str, int] = {}
    for codes, n in session.execute(select(AttendanceDay.codes, func.count())
                                    .where(AttendanceDay.employee_id == employee_id, AttendanceDay.date >= first,
                                           AttendanceDay.date < after, AttendanceDay.codes != "")
                                    .group_by(AttendanceDay.codes)):
        for code in codes.split(","):
            out[code] = out.get(code, 0) + n
    return out


class Calendars:
    """Calendars by year, each read once per use case."""

    def __init__(self, session: Session):
        self.session = session
        self.cache: dict[int, WorkCalendar] = {}

    def __call__(self, year: int) -> WorkCalendar:
        if year not in self.cache:
            self.cache[year] = load_calendar(self.session, year)
        return self.cache[year]


def is_locked(session: Session, day: date) -> bool:
    return session.get(ClosedPeriod, (day.year, day.month)) is not None


def locked_months(session: Session) -> set[tuple[int, int]]:
    return {(y, m) for y, m in session.execute(select(ClosedPeriod.year, ClosedPeriod.month))}


def employees_by_nip(session: Session, nips: set[str]) -> dict[str, str | None]:
    """NIP -> employee id, or None for a NIP two employee records share."""
    found: dict[str, str | None] = {}
    ordered = sorted(n for n in nips if n)
    for i in range(0, len(ordered), CHUNK):
        for nip, employee_id in session.execute(select(Employee.nip, Employee.employee_id)
                                                .where(Employee.nip.in_(ordered[i:i + CHUNK]))):
            found[nip] = employee_id if found.get(nip, employee_id) == employee_id else None
    return found


def store_evidence(uow: UnitOfWork, store: evidence.EvidenceStore, data: bytes, row: Evidence) -> Evidence:
    """Write the file (after every check passed), then its record; if the record cannot be
    stored, the file goes again. The caller removes it too if the commit itself fails."""
    stored = store.save(data)
    row.id, row.size_bytes, row.sha256, row.uploaded_at = stored.id, stored.size, stored.sha256, utcnow()
    try:
        uow.session.add(row)
        uow.session.flush()
    except Exception:
        store.delete(stored.id)
        raise
    return row


# Who sees an entry's evidence besides the employee: everyone who may have to decide on it — the
# supervisor on the entry's date, the one above (escalations, first-level appeals), and the one
# above that (the first level of an appeal against a decision the second took after an escalation).
EVIDENCE_LEVELS = 3

FACTS = supervision_queries.ReadModel(
    placement_id=Placement.placement_id, employee_id=Placement.employee_id, position_id=Placement.position_id,
    kind=Placement.kind, start_date=Placement.start_date, end_date=Placement.end_date,
    post_id=Position.position_id, parent_id=Position.parent_id)


def supervisors_of(session: Session, employee_id: str, day: date, levels: int = EVIDENCE_LEVELS) -> list[str]:
    """The employee's line upwards on ``day`` — supervisor, supervisor's supervisor, … — by the
    rule every service shares (``ekinerja_common.supervision``), from the read models of
    placements and positions."""
    return supervision_queries.levels_above(session, FACTS, employee_id, day, levels)
