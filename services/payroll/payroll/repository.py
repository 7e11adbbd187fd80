"""The reads a TPP run needs, each one query for the whole month.

Month end is when everyone computes at once (DESIGN.md §1), so a run must cost a handful of
queries whatever the number of employees: sums are grouped in SQL, never looped per employee.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .orm import ActivityDecision, AttendanceDay, Employee, Placement, Position, Salary


def placed_employees(session: Session, first: date, last: date) -> dict[str, tuple[Employee | None, list[Placement]]]:
    """Definitive placements overlapping the month, by employee, with the employee's record; the
    record is None when the placement arrived before employee.registered. Inactive employees and
    acting (Plt) posts are left out: TPP follows the definitive position."""
    rows = session.execute(
        select(Placement, Employee)
        .outerjoin(Employee, Employee.employee_id == Placement.employee_id)
        .where(Placement.kind == "definitive", Placement.start_date <= last,
               or_(Placement.end_date.is_(None), Placement.end_date >= first),
               or_(Employee.employee_id.is_(None), Employee.active.is_(True)))
    ).all()
    out: dict[str, tuple[Employee | None, list[Placement]]] = {}
    for placement, employee in rows:
        out.setdefault(placement.employee_id, (employee, []))[1].append(placement)
    return out


def positions(session: Session, ids: Iterable[str]) -> dict[str, Position]:
    return {p.position_id: p for p in session.scalars(select(Position).where(Position.position_id.in_(set(ids))))}


def approved_minutes(session: Session, first: date, last: date) -> dict[str, int]:
    return dict(session.execute(
        select(ActivityDecision.employee_id, func.sum(ActivityDecision.credited_minutes))
        .where(ActivityDecision.status == "approved", ActivityDecision.day.between(first, last))
        .group_by(ActivityDecision.employee_id)
    ).all())


def attendance_deductions(session: Session, first: date, last: date) -> dict[str, Decimal]:
    return dict(session.execute(
        select(AttendanceDay.employee_id, func.sum(AttendanceDay.deduction_pct))
        .where(AttendanceDay.day.between(first, last))
        .group_by(AttendanceDay.employee_id)
    ).all())


def salaries(session: Session, year: int, month: int) -> dict[str, Salary]:
    return {s.employee_id: s for s in session.scalars(select(Salary).where(Salary.year == year, Salary.month == month))}
