"""The employee's TPP estimate for a month still open (GET /estimates/{year}/{month}/me).

Computed exactly as the month's run will compute the line — the real policy of the year, the
employee's position and status, the approved minutes and attendance codes payroll has received so
far, sanctions in force, the salary — only for one person and without storing anything. What it
adds is the explanation a person needs on their "my month" page: the most the position pays, and
each cut from it in rupiah (productivity short of the target, attendance codes, a sanction, tax,
BPJS), what each attendance code costs a day, what the entries still waiting for the supervisor
would add once approved, and what the next approved hour is worth.

The salary is the month's, else the latest one recorded before it (BPKAD imports salaries at
month end; until then last month's is the best guess, and the answer says which month it used).
"""
from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ekinerja_common.envelope import utcnow
from ekinerja_common.errors import Conflict, NotFound, Text
from ekinerja_common.uow import UnitOfWork

from . import domain, repository
from .orm import Employee, Placement, Salary, TppRun
from .services import MonthReader, _inputs, _skip_reason, current_policy

NO_LINE = Text("Belum dapat diperkirakan: data jabatan atau kepegawaian Anda belum lengkap di BPKAD",
               "No estimate yet: your position or personnel data has not reached BPKAD")


def _salary(session: Session, employee_id: str, year: int, month: int):
    """The month's salary row, else the latest before it (None when none was ever recorded)."""
    key = year * 12 + month
    rows = session.execute(select(Salary.year, Salary.month, Salary.salary, Salary.bpjs_already)
                           .where(Salary.employee_id == employee_id, Salary.year * 12 + Salary.month <= key)
                           .order_by(Salary.year.desc(), Salary.month.desc()).limit(1)).all()
    return rows[0] if rows else None


def estimate(uow: UnitOfWork, employee_id: str, year: int, month: int, pending_minutes: int = 0) -> dict[str, Any]:
    domain.check_period(year, month)
    s = uow.session
    run = s.scalar(select(TppRun).where(TppRun.year == year, TppRun.month == month))
    if run is not None and run.status == "locked":
        raise Conflict("period_locked", Text("Bulan ini sudah dikunci BPKAD: lihat TPP Saya untuk angka yang dibayarkan",
                                             "BPKAD has locked this month: see your TPP line for the amount paid"))
    pol = current_policy(uow, year, "estimate")
    first, last = domain.month_bounds(year, month)
    employee = s.get(Employee, employee_id)
    placements = s.scalars(select(Placement).where(
        Placement.employee_id == employee_id, Placement.kind == "definitive", Placement.start_date <= last,
        or_(Placement.end_date.is_(None), Placement.end_date >= first))).all()
    if employee is None or not employee.active or not placements:
        raise NotFound(NO_LINE)
    placement = domain.month_placement(placements, last)
    position = repository.positions(s, [placement.position_id]).get(placement.position_id)
    if _skip_reason(pol, employee, position) is not None:
        raise NotFound(NO_LINE)
    target = domain.month_target(year, month, *repository.work_calendar(s, year))
    only = select(Employee.employee_id).where(Employee.employee_id == employee_id)
    data = MonthReader(s, year, month, only).of(employee_id)
    salary = _salary(s, employee_id, year, month)
    inputs, shown = _inputs(pol, employee, position, target, salary, data)
    line = domain.compute(inputs)
    cut = domain.cuts(inputs)
    codes = shown["attendance_days_by_code"]
    attendance = [{"code": code, "days": days, "deduction_pct": str(pol.deductions_pct[code]),
                   "cost_per_day": domain.discipline_day_cost(inputs, pol.deductions_pct[code])}
                  for code, days in codes.items() if code in pol.deductions_pct]
    figures = lambda ln: {"gross": ln.gross, "pph": ln.pph, "bpjs": ln.bpjs, "net": ln.net}  # noqa: E731
    with_pending = None
    if pending_minutes:
        more = domain.compute(dataclasses.replace(inputs, approved_minutes=inputs.approved_minutes + pending_minutes))
        with_pending = {"approved_minutes": more.inputs.approved_minutes, **figures(more)}
    next_hour = None
    if inputs.approved_minutes < inputs.target_minutes:
        more = domain.compute(dataclasses.replace(inputs, approved_minutes=min(inputs.target_minutes,
                                                                               inputs.approved_minutes + 60)))
        next_hour = more.net - line.net
    return {
        "year": year, "month": month, "computed_at": utcnow().isoformat(), "run_status": run.status if run else None,
        "policy_version": pol.version, "employee_id": employee_id, "position_id": position.position_id,
        "position_name": position.name, "kelas_jabatan": position.kelas_jabatan,
        "salary_month": f"{salary.year:04d}-{salary.month:02d}" if salary else None,
        **figures(line),
        "inputs": {**line.explain(), **shown},
        "cuts": {"full": cut.full, "productivity": cut.productivity, "discipline": cut.discipline,
                 "sanction": cut.sanction, "pph": line.pph, "bpjs": line.bpjs},
        "minutes_short": max(0, inputs.target_minutes - inputs.approved_minutes),
        "attendance": attendance,
        "unpriced_codes": shown["unpriced_codes"],
        "with_pending": with_pending,
        "net_per_next_hour": next_hour,
    }
