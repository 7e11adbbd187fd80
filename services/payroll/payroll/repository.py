"""The reads a TPP run needs, each one query for the whole month, and the period lock.

Month end is when everyone computes at once (DESIGN.md §1), so a run must cost a handful of
queries whatever the number of employees: sums and counts are grouped in SQL, never looped per
employee. The same queries serve the recomputation of a locked month for corrections, restricted
by a sub-select to the employees whose data changed (``only``).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Row, Select, Table, func, insert, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ekinerja_common.workdays import WorkingDays

from .orm import (ActivityDecision, AttendanceCode, AttendanceDay, DataChange, Employee, Placement, Position, Salary,
                  Sanction, TppPeriod, TppRun, WorkCalendarRow)

# Statuses of an entry whose credited minutes count towards productivity.
COUNTED = ("approved", "overturned")


def lock_period(session: Session, year: int, month: int, exclusive: bool) -> None:
    """Lock the month's period row, creating it if needed: exclusively to compute or lock the month,
    shared to change its data. On PostgreSQL an insert that meets another transaction's uncommitted
    insert of the same row waits for it, so even the very first compute and a concurrent event
    follow each other. SQLite locks the whole database per write transaction anyway."""
    dialect = session.get_bind().dialect.name
    values = {"year": year, "month": month}
    if dialect == "postgresql":
        session.execute(pg_insert(TppPeriod).values(**values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite_insert(TppPeriod).values(**values).on_conflict_do_nothing())
    elif session.get(TppPeriod, (year, month)) is None:  # pragma: no cover - other databases
        session.execute(insert(TppPeriod).values(**values))
    session.execute(select(TppPeriod.year).where(TppPeriod.year == year, TppPeriod.month == month)
                    .with_for_update(read=not exclusive))


def lock_order(session: Session, exclusive: bool) -> None:
    """The order of months: a lock takes it exclusively, a compute shared, so that "no later month
    is locked" (checked by a compute) and "no earlier month is open" (checked by a lock) cannot
    both pass for a compute and a lock running at once. A period row of its own (0, 0), taken
    before any month's, so the order in which transactions take period locks stays the same."""
    lock_period(session, 0, 0, exclusive)


# json.dumps(value, separators=(",", ":")) without building an encoder for every value.
_encode_json = json.JSONEncoder(separators=(",", ":")).encode


class JsonText(str):
    """A JSON column's value already encoded (as ``json.dumps(value, separators=(",", ":"))``), which
    ``bulk_insert`` writes as it is: a run encodes its lines' inputs from shared pieces."""


def bulk_insert(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert many rows in the session's transaction: with COPY on PostgreSQL (a run writes
    thousands of lines with their inputs, and COPY is several times faster than batched INSERTs),
    a plain executemany elsewhere. Rows must carry every column value, ids included: column
    defaults do not apply to COPY."""
    if not rows:
        return
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(table), [{k: json.loads(v) if isinstance(v, JsonText) else v for k, v in row.items()}
                                        for row in rows])
        return
    columns = [c for c in table.columns if c.name in rows[0]]
    as_json = {c.name for c in columns if isinstance(c.type, JSON)}
    names = ", ".join(f'"{c.name}"' for c in columns)
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row([_encode_json(row[c.name])
                            if c.name in as_json and row[c.name] is not None and not isinstance(row[c.name], JsonText)
                            else row[c.name] for c in columns])


@contextmanager
def streamed_insert(session: Session, table: Table, columns: list[str]) -> Iterator[Callable[[dict[str, Any]], None]]:
    """``bulk_insert`` as the rows are made: yields ``write(row)``, a row being a dict or a tuple of
    the ``columns``' values in their order. On PostgreSQL each row goes into
    one COPY at once, so the server stores the rows while Python is still making the next ones (two
    cores at work instead of one after the other); the session's connection is busy meanwhile, so
    no query may run inside the block. Elsewhere the rows are kept and inserted at the end."""
    if session.get_bind().dialect.name != "postgresql":
        rows: list[dict[str, Any]] = []
        yield lambda row: rows.append(row if isinstance(row, dict) else dict(zip(columns, row)))
        bulk_insert(session, table, rows)
        return
    cols = [table.c[name] for name in columns]
    as_json = [n for n, c in enumerate(cols) if isinstance(c.type, JSON)]
    names = ", ".join(f'"{c.name}"' for c in cols)
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        write_row = copy.write_row

        def write(row: dict[str, Any] | tuple) -> None:
            values = [row[name] for name in columns] if isinstance(row, dict) else list(row)
            for n in as_json:
                if values[n] is not None and not isinstance(values[n], JsonText):
                    values[n] = _encode_json(values[n])
            write_row(values)

        yield write


def note_changes(session: Session, year: int, month: int,
                 changes: list[tuple[str, date | None, str, str] | tuple[str, date | None, str, str, str | None]],
                 detail: dict[str, Any] | None = None) -> int:
    """Record that employees' data of a month changed — ``(employee_id, day, cause_id, cause_type[,
    cause_ref])`` each, with what changed (``detail``, e.g. an attendance day's codes before and
    after) — if that month has been computed already (a month not computed yet will simply see the
    data). Call it in the transaction that makes the change; returns how many rows were written."""
    if not changes:
        return 0
    lock_period(session, year, month, exclusive=False)
    if session.scalar(select(TppRun.id).where(TppRun.year == year, TppRun.month == month)) is None:
        return 0
    session.add_all(DataChange(year=year, month=month, employee_id=c[0], day=c[1], cause_id=c[2], cause_type=c[3],
                               cause_ref=c[4] if len(c) > 4 else None, detail=detail) for c in changes)
    return len(changes)


def note_change(session: Session, employee_id: str, year: int, month: int, day: date | None, cause_id: str,
                cause_type: str, cause_ref: str | None = None, detail: dict[str, Any] | None = None) -> bool:
    return note_changes(session, year, month, [(employee_id, day, cause_id, cause_type, cause_ref)], detail) > 0


def placed_employees(session: Session, first: date, last: date) -> dict[str, tuple[Row | None, list[Row]]]:
    """Definitive placements overlapping the month, by employee, with the employee's record; the
    record is None when the placement arrived before employee.registered. Inactive employees and
    acting (Plt) posts are left out: TPP follows the definitive position. Plain rows, not ORM
    objects: a run reads tens of thousands of them and changes none."""
    e, p = Employee.__table__.c, Placement.__table__.c
    rows = session.execute(
        select(p.employee_id, p.position_id, p.start_date, p.end_date,
               e.employee_id.label("known"), e.nip, e.name, e.employee_kind, e.status, e.golongan, e.bank_account)
        .select_from(Placement.__table__.outerjoin(Employee.__table__, e.employee_id == p.employee_id))
        .where(p.kind == "definitive", p.start_date <= last, or_(p.end_date.is_(None), p.end_date >= first),
               or_(e.employee_id.is_(None), e.active.is_(True)))
    ).all()
    out: dict[str, tuple[Row | None, list[Row]]] = {}
    for row in rows:
        out.setdefault(row.employee_id, (row if row.known is not None else None, []))[1].append(row)
    return out


def positions(session: Session, ids: Iterable[str]) -> dict[str, Row]:
    t = Position.__table__
    return {p.position_id: p for p in session.execute(select(t).where(t.c.position_id.in_(set(ids))))}


def placed_positions(session: Session, first: date, last: date) -> dict[str, Row]:
    """The positions of the definitive placements overlapping the month (those ``placed_employees``
    reads), by a sub-select rather than a list of ids: a run of 10,000 employees would bind as many
    parameters."""
    t, p = Position.__table__, Placement.__table__.c
    placed = select(p.position_id).where(p.kind == "definitive", p.start_date <= last,
                                         or_(p.end_date.is_(None), p.end_date >= first))
    return {r.position_id: r for r in session.execute(select(t).where(t.c.position_id.in_(placed)))}


def _only(query: Select, column, only: Select | None) -> Select:
    return query if only is None else query.where(column.in_(only))


def approved_minutes(session: Session, first: date, last: date, only: Select | None = None) -> dict[str, int]:
    """Credited minutes of the month's entries whose latest decision counts, per employee."""
    q = (select(ActivityDecision.employee_id, func.sum(ActivityDecision.credited_minutes))
         .where(ActivityDecision.status.in_(COUNTED), ActivityDecision.day.between(first, last))
         .group_by(ActivityDecision.employee_id))
    return dict(session.execute(_only(q, ActivityDecision.employee_id, only)).all())


def attendance_code_days(session: Session, first: date, last: date, only: Select | None = None) -> dict[str, dict[str, int]]:
    """Days per discipline code in the month, per employee."""
    q = (select(AttendanceCode.employee_id, AttendanceCode.code, func.count())
         .where(AttendanceCode.day.between(first, last))
         .group_by(AttendanceCode.employee_id, AttendanceCode.code))
    out: dict[str, dict[str, int]] = {}
    for emp, code, days in session.execute(_only(q, AttendanceCode.employee_id, only)):
        out.setdefault(emp, {})[code] = days
    return out


def reported_deductions(session: Session, first: date, last: date, only: Select | None = None) -> dict[str, Decimal]:
    """The deductions activity computed and reported with each day: shown beside payroll's own,
    not used for the figures."""
    q = (select(AttendanceDay.employee_id, func.sum(AttendanceDay.deduction_pct))
         .where(AttendanceDay.day.between(first, last))
         .group_by(AttendanceDay.employee_id))
    return dict(session.execute(_only(q, AttendanceDay.employee_id, only)).all())


def sanctions(session: Session, first: date, last: date, only: Select | None = None) -> dict[str, list[Sanction]]:
    """Sanctions in force on any day of the month (not revoked), per employee."""
    q = (select(Sanction).where(Sanction.revoked_at.is_(None), Sanction.start_date <= last, Sanction.end_date >= first)
         .order_by(Sanction.start_date, Sanction.id))
    out: dict[str, list[Sanction]] = {}
    for s in session.scalars(_only(q, Sanction.employee_id, only)):
        out.setdefault(s.employee_id, []).append(s)
    return out


def salaries(session: Session, year: int, month: int) -> dict[str, Row]:
    t = Salary.__table__
    return {s.employee_id: s for s in session.execute(
        select(t.c.employee_id, t.c.salary, t.c.bpjs_already).where(t.c.year == year, t.c.month == month))}


def work_calendar(session: Session, year: int) -> tuple[WorkingDays | None, bool]:
    """BKD's work calendar of the year as last received (None when none has arrived), and whether
    it stated the daily minutes target."""
    row = session.get(WorkCalendarRow, year)
    if row is None:
        return None, False
    days_off = [date.fromisoformat(d) for d in [*row.holidays, *row.collective_leave]]
    return (WorkingDays.of(row.year, row.working_weekdays, days_off, row.target_minutes_per_day, row.version),
            row.target_minutes_per_day is not None)


def work_calendar_version(session: Session, year: int) -> int | None:
    return session.scalar(select(WorkCalendarRow.version).where(WorkCalendarRow.year == year))
