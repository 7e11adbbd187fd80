"""BKD's month views across people: attendance per unit, and who has entered nothing. Read-only,
paged (ekinerja_common.paging), from the read models (placements, positions with their unit, the
unit tree) and the month summaries kept by every change — no per-row work on read.

"In the unit" = placed (definitive or Plt) at some time in the month in a post of the unit or of a
unit below it. Someone who moved between units within the month is in both.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from ekinerja_common.errors import NotFound, Text

from . import domain
from .orm import Employee, Entry, MonthSummary, Placement, Position, Unit

UNIT_NOT_FOUND = Text("Unit tidak ditemukan", "Unit not found")


def subtree(session: Session, unit_id: str) -> set[str]:
    """The unit and every unit below it (404 for a unit activity has not heard of)."""
    if session.get(Unit, unit_id) is None:
        raise NotFound(UNIT_NOT_FOUND, "unknown_unit")
    children: dict[str | None, list[str]] = defaultdict(list)
    for uid, parent in session.execute(select(Unit.unit_id, Unit.parent_id)):
        children[parent].append(uid)
    out, todo = set(), [unit_id]
    while todo:
        u = todo.pop()
        if u not in out:
            out.add(u)
            todo += children.get(u, [])
    return out


def _placed_in(first: date, after: date, units: set[str] | None):
    """EXISTS a placement of Employee overlapping the month (in one of ``units`` when given)."""
    q = select(Placement.placement_id).where(
        Placement.employee_id == Employee.employee_id, Placement.start_date < after,
        or_(Placement.end_date.is_(None), Placement.end_date >= first))
    if units is not None:
        q = q.join(Position, Position.position_id == Placement.position_id).where(Position.unit_id.in_(units))
    return exists(q)


def scope(first: date, after: date, units: set[str] | None) -> Select:
    return select(Employee).where(Employee.active.is_(True), _placed_in(first, after, units))


def without_entries(stmt: Select, first: date, after: date) -> Select:
    """Those of ``stmt`` with no entry dated in the month (a withdrawn one is no entry; a draft
    is: the person has started)."""
    return stmt.where(~exists(select(Entry.id).where(
        Entry.employee_id == Employee.employee_id, Entry.date >= first, Entry.date < after, Entry.status != "withdrawn")))


def posts(session: Session, employee_ids: list[str], first: date, after: date) -> dict[str, dict]:
    """Each person's post in the month: the definitive one that started last, else a Plt."""
    if not employee_ids:
        return {}
    rows = session.execute(
        select(Placement.employee_id, Placement.kind, Placement.start_date, Position.position_id, Position.name,
               Position.unit_id, Unit.name.label("unit_name"))
        .join(Position, Position.position_id == Placement.position_id, isouter=True)
        .join(Unit, Unit.unit_id == Position.unit_id, isouter=True)
        .where(Placement.employee_id.in_(employee_ids), Placement.start_date < after,
               or_(Placement.end_date.is_(None), Placement.end_date >= first))).all()
    best: dict[str, tuple] = {}
    for r in rows:
        rank = (r.kind == "definitive", r.start_date)
        if r.employee_id not in best or rank > best[r.employee_id][0]:
            best[r.employee_id] = (rank, {"position_id": r.position_id, "position_name": r.name,
                                          "unit_id": r.unit_id, "unit_name": r.unit_name, "kind": r.kind})
    return {k: v[1] for k, v in best.items()}


def by_unit(session: Session, stmt: Select, first: date, after: date) -> dict[str | None, int]:
    """How many people of ``stmt`` each unit has (by the units of their posts in the month)."""
    ids = stmt.with_only_columns(Employee.employee_id).subquery()
    rows = session.execute(
        select(Position.unit_id, func.count(func.distinct(Placement.employee_id)))
        .join(Position, Position.position_id == Placement.position_id, isouter=True)
        .where(Placement.employee_id.in_(select(ids.c.employee_id)), Placement.start_date < after,
               or_(Placement.end_date.is_(None), Placement.end_date >= first))
        .group_by(Position.unit_id)).all()
    return {u: n for u, n in rows}


def count(session: Session, stmt: Select) -> int:
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


def unit_names(session: Session, unit_ids) -> dict[str, str]:
    ids = [u for u in unit_ids if u]
    if not ids:
        return {}
    return {u: n for u, n in session.execute(select(Unit.unit_id, Unit.name).where(Unit.unit_id.in_(ids)))}


def summaries(session: Session, employee_ids: list[str], year: int, month: int) -> dict[str, MonthSummary]:
    if not employee_ids:
        return {}
    return {r.employee_id: r for r in session.scalars(select(MonthSummary).where(
        MonthSummary.employee_id.in_(employee_ids), MonthSummary.year == year, MonthSummary.month == month))}


def attendance_totals(session: Session, stmt: Select, year: int, month: int) -> dict:
    """Sums of the month's attendance figures over everyone of ``stmt``."""
    ids = stmt.with_only_columns(Employee.employee_id).subquery()
    row = session.execute(select(
        func.count(), func.coalesce(func.sum(MonthSummary.attendance_days), 0),
        func.coalesce(func.sum(MonthSummary.late_days), 0), func.coalesce(func.sum(MonthSummary.early_days), 0),
        func.coalesce(func.sum(MonthSummary.absent_days), 0), func.coalesce(func.sum(MonthSummary.excused_days), 0))
        .select_from(ids).join(MonthSummary, and_(MonthSummary.employee_id == ids.c.employee_id,
                                                  MonthSummary.year == year, MonthSummary.month == month),
                               isouter=True)).one()
    return {"employees": row[0], "recorded_days": int(row[1]), "late_days": int(row[2]), "early_days": int(row[3]),
            "absent_days": int(row[4]), "excused_days": int(row[5])}


def attendance_item(e: Employee, post: dict | None, m: MonthSummary | None) -> dict:
    deduction = m.deduction_pct if m else Decimal(0)
    return {"employee_id": e.employee_id, "nip": e.nip, "name": e.name, "post": post,
            "recorded_days": m.attendance_days if m else 0, "late_days": m.late_days if m else 0,
            "early_days": m.early_days if m else 0, "absent_days": m.absent_days if m else 0,
            "excused_days": m.excused_days if m else 0, "deduction_pct": str(deduction),
            "discipline_pct": str(domain.discipline_pct(deduction))}
