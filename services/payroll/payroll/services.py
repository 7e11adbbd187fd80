"""Service layer: each function is one use case, run inside a unit of work.

No payroll change here has an event of its own in the catalogue yet (only the period lock and
corrections will), so these use cases write an audit row instead of ``uow.publish``.
"""
from __future__ import annotations

import dataclasses
from decimal import Decimal

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ekinerja_common.envelope import utcnow
from ekinerja_common.errors import Conflict, FieldErrors, Text
from ekinerja_common.uow import UnitOfWork

from . import defaults, domain, policy, repository
from .orm import AuditEntry, Employee, Position, PolicyVersion, Salary, TppLineRow, TppRun
from .policy import Policy

STALE_POLICY = Text("Kebijakan tahun ini sudah diubah orang lain; muat ulang lalu ulangi",
                    "Someone else changed this year's policy meanwhile; reload and try again")
PERIOD_LOCKED = Text("Periode ini sudah dikunci dan tidak dapat diubah", "This period is locked and cannot change")


def audit(uow: UnitOfWork, actor: str, action: str, subject: str, detail: dict) -> None:
    uow.session.add(AuditEntry(actor=actor, action=action, subject=subject, detail=detail))


def _latest_policy(session: Session, year: int) -> PolicyVersion | None:
    return session.scalar(select(PolicyVersion).where(PolicyVersion.year == year)
                          .order_by(PolicyVersion.version.desc()).limit(1))


def current_policy(uow: UnitOfWork, year: int, actor: str) -> Policy:
    """The year's latest policy; a year nobody configured starts from the defaults, stored as
    version 1 so that the runs computed with it can name it."""
    domain.check_period(year)
    row = _latest_policy(uow.session, year)
    if row is None:
        try:
            with uow.session.begin_nested():
                row = PolicyVersion(year=year, version=1, document=defaults.document(year), created_by=actor)
                uow.session.add(row)
                audit(uow, actor, "policy.defaulted", f"policy/{year}", {"version": 1})
        except IntegrityError:
            # Another request stored the defaults first; the same document, so use theirs.
            row = _latest_policy(uow.session, year)
    return policy.parse(year, row.version, row.document)


def replace_policy(uow: UnitOfWork, year: int, document: dict, actor: str, expected_version: int | None) -> Policy:
    domain.check_period(year)
    new = policy.parse(year, 0, document)
    current = current_policy(uow, year, actor)
    if expected_version is not None and expected_version != current.version:
        raise Conflict("stale_policy", STALE_POLICY)
    new = dataclasses.replace(new, version=current.version + 1)
    try:
        with uow.session.begin_nested():
            uow.session.add(PolicyVersion(year=year, version=new.version, document=new.document(), created_by=actor))
    except IntegrityError:  # two editors saved at once: the second must see the first's change
        raise Conflict("stale_policy", STALE_POLICY)
    audit(uow, actor, "policy.changed", f"policy/{year}", {"version": new.version, "previous_version": current.version})
    return new


def _run_status(session: Session, year: int, month: int) -> str | None:
    return session.scalar(select(TppRun.status).where(TppRun.year == year, TppRun.month == month))


def set_salaries(uow: UnitOfWork, year: int, month: int, rows: list[dict], actor: str) -> int:
    """Record the month's salaries (and what the salary slip already deducted for BPJS).
    Employees not listed keep what they had; employees not known here yet are accepted, since
    their employee.registered event may still be on its way."""
    domain.check_period(year, month)
    if _run_status(uow.session, year, month) == "locked":
        raise Conflict("period_locked", PERIOD_LOCKED)
    errors, seen = FieldErrors(), set()
    for n, row in enumerate(rows):
        if row["employee_id"] in seen:
            errors.add(f"salaries.{n}.employee_id", "Pegawai tercantum dua kali", "Employee listed twice")
        seen.add(row["employee_id"])
    errors.raise_if_any()
    existing = {s.employee_id: s for s in uow.session.scalars(
        select(Salary).where(Salary.year == year, Salary.month == month, Salary.employee_id.in_(seen)))}
    for row in rows:
        salary = existing.get(row["employee_id"])
        if salary is None:
            salary = Salary(year=year, month=month, employee_id=row["employee_id"])
            uow.session.add(salary)
        salary.salary, salary.bpjs_already = row["salary"], row["bpjs_already"]
        salary.updated_at, salary.updated_by = utcnow(), actor
    try:
        uow.session.flush()
    except IntegrityError:  # another upload added the same employee's salary meanwhile
        raise Conflict("salaries_changed", Text("Gaji bulan ini sedang diubah bersamaan; ulangi",
                                                "This month's salaries were changed meanwhile; try again"))
    audit(uow, actor, "salaries.set", f"salaries/{year}-{month:02d}", {"count": len(rows)})
    return len(rows)


def _locked_run_row(session: Session, year: int, month: int) -> TppRun | None:
    return session.scalar(select(TppRun).where(TppRun.year == year, TppRun.month == month)
                          .with_for_update().execution_options(populate_existing=True))


def _open_run(uow: UnitOfWork, year: int, month: int, actor: str, policy_version: int) -> TppRun:
    """The month's run, row-locked so that two computes of one month follow each other."""
    run = _locked_run_row(uow.session, year, month)
    if run is None:
        try:
            with uow.session.begin_nested():
                uow.session.add(TppRun(year=year, month=month, status="open", policy_version=policy_version,
                                       computed_by=actor, skipped=[], version=0))
        except IntegrityError:
            pass  # created by a concurrent compute; lock theirs below
        run = _locked_run_row(uow.session, year, month)
    if run.status == "locked":
        raise Conflict("period_locked", PERIOD_LOCKED)
    return run


def _skip_reason(pol: Policy, employee: Employee | None, position: Position | None) -> str | None:
    """Why an employee placed in the month gets no line yet: data that has not arrived by event,
    or a kelas/golongan the policy has no figure for. The run lists them; a recompute after the
    data arrives includes them."""
    if employee is None:
        return "unknown_employee"
    if position is None:
        return "unknown_position"
    if pol.base_for(position.kelas_jabatan) is None:
        return "kelas_not_in_policy"
    if pol.pph_rate_pct(employee.employee_kind, employee.golongan) is None:
        return "golongan_not_in_policy"
    return None


def _inputs(pol: Policy, employee: Employee, position: Position, working_days: int, approved_minutes: int,
            deductions_pct: Decimal, salary: Salary | None) -> domain.TppInputs:
    return domain.TppInputs(
        kelas_jabatan=position.kelas_jabatan, base=pol.base_for(position.kelas_jabatan), factor=Decimal(position.factor),
        employee_kind=employee.employee_kind, golongan=employee.golongan, status=employee.status,
        approved_minutes=approved_minutes, working_days=working_days, minutes_per_day=pol.minutes_per_day,
        deductions_pct=deductions_pct, perf_weight_pct=pol.perf_weight_pct, disc_weight_pct=pol.disc_weight_pct,
        status_factor_pct=pol.status_factor_pct(employee.status),
        pph_rate_pct=pol.pph_rate_pct(employee.employee_kind, employee.golongan),
        bpjs_rate_pct=pol.bpjs_rate_pct, bpjs_cap=pol.bpjs_cap,
        salary=salary.salary if salary else None, bpjs_already=salary.bpjs_already if salary else None,
    )


def totals(lines: list) -> dict[str, int]:
    return {"employees": len(lines), **{k: sum(getattr(l, k) for l in lines) for k in ("gross", "pph", "bpjs", "net")}}


def compute_run(uow: UnitOfWork, year: int, month: int, actor: str) -> TppRun:
    """Compute the month's line for every active employee with a definitive placement in it,
    replacing the lines of an earlier compute. Approved minutes are those of entries dated in the
    month whose latest decision is an approval. A month without attendance rows counts as full
    discipline (100 %): the walking skeleton has no attendance import yet, and withholding the
    discipline share for missing data would underpay everyone."""
    domain.check_period(year, month)
    pol = current_policy(uow, year, actor)
    first, last = domain.month_bounds(year, month)
    days = domain.working_days(year, month, pol.holidays)
    run = _open_run(uow, year, month, actor, pol.version)
    s = uow.session
    chosen = {emp_id: (emp, domain.month_placement(pls, last))
              for emp_id, (emp, pls) in repository.placed_employees(s, first, last).items()}
    positions = repository.positions(s, (p.position_id for _, p in chosen.values()))
    minutes = repository.approved_minutes(s, first, last)
    deductions = repository.attendance_deductions(s, first, last)
    salaries = repository.salaries(s, year, month)
    lines: list[domain.TppLine] = []
    rows, skipped = [], []
    for emp_id, (emp, placement) in sorted(chosen.items()):
        position = positions.get(placement.position_id)
        reason = _skip_reason(pol, emp, position)
        if reason:
            skipped.append({"employee_id": emp_id, "reason": reason, "position_id": placement.position_id})
            continue
        line = domain.compute(_inputs(pol, emp, position, days, minutes.get(emp_id, 0),
                                      deductions.get(emp_id, Decimal(0)), salaries.get(emp_id)))
        lines.append(line)
        rows.append({"run_id": run.id, "employee_id": emp_id, "nip": emp.nip, "name": emp.name,
                     "position_id": position.position_id, "unit_id": position.unit_id, "gross": line.gross,
                     "pph": line.pph, "bpjs": line.bpjs, "net": line.net, "inputs": line.explain()})
    s.execute(delete(TppLineRow).where(TppLineRow.run_id == run.id))
    if rows:
        s.execute(insert(TppLineRow), rows)
    run.version += 1
    run.policy_version, run.skipped = pol.version, skipped
    run.computed_at, run.computed_by = utcnow(), actor
    audit(uow, actor, "run.computed", f"run/{year}-{month:02d}", {
        "run_version": run.version, "policy_version": pol.version, "working_days": days,
        "skipped": len(skipped), "totals": totals(lines)})
    return run
