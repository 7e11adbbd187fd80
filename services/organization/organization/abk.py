"""The workload analysis report (ABK): required staff per position from its duties, beside the
actual headcount on a date from the placements read model (fed by identity's employee.placed),
per position and summed per unit. Three queries, whatever the size of the regency."""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ekinerja_common.errors import NotFound, Text

from . import domain
from .orm import Duty, Placement, Position, Unit
from .services import effective_minutes


def _totals(required: Decimal, rounded: int, actual: int) -> dict:
    return {"required": str(required), "required_rounded": rounded, "actual": actual, "gap": actual - rounded}


def report(session: Session, day: date, unit_id: str | None = None) -> dict:
    """``gap`` = actual − required_rounded: below zero the post is understaffed, above zero
    overstaffed. The structure is today's (abolished positions and dissolved units left out);
    the headcount is the one on ``day``: definitive holders count, acting (Plt) holders are shown
    apart since they fill the post only on top of their own."""
    minutes, is_default = effective_minutes(session, day.year)
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.active))}
    if unit_id is not None and unit_id not in units:
        raise NotFound(Text("Unit tidak ditemukan", "Unit not found"))
    children: dict[str | None, list[str]] = defaultdict(list)
    for u in units.values():
        children[u.parent_id if u.parent_id in units else None].append(u.id)
    scope: list[str] = []  # the unit and everything below it, in tree order
    todo = [unit_id] if unit_id else sorted(children[None], key=lambda i: units[i].code)
    while todo:
        current = todo.pop(0)
        scope.append(current)
        todo[0:0] = sorted(children[current], key=lambda i: units[i].code)

    positions = session.scalars(select(Position).where(Position.active, Position.unit_id.in_(scope))
                                .order_by(Position.code)).all()
    ids = [p.id for p in positions]
    duties: dict[str, list[tuple[int | None, int]]] = defaultdict(list)
    for pid, volume, norma in session.execute(select(Duty.position_id, Duty.yearly_volume, Duty.norma_waktu)
                                              .where(Duty.status == "published", Duty.position_id.in_(ids))):
        duties[pid].append((volume, norma))
    heads: dict[tuple[str, str], int] = {}
    for pid, kind, count in session.execute(
            select(Placement.position_id, Placement.kind, func.count(func.distinct(Placement.employee_id)))
            .where(Placement.position_id.in_(ids), Placement.start_date <= day,
                   or_(Placement.end_date.is_(None), Placement.end_date >= day))
            .group_by(Placement.position_id, Placement.kind)):
        heads[(pid, kind)] = count

    by_unit: dict[str, list[dict]] = defaultdict(list)
    rows = []
    for p in positions:
        w = domain.workload(duties[p.id], minutes)
        actual = heads.get((p.id, "definitive"), 0)
        row = {"position_id": p.id, "code": p.code, "name": p.name, "kind": p.kind, "kelas_jabatan": p.kelas_jabatan,
               "unit_id": p.unit_id, "workload_minutes": w.minutes, **_totals(w.required, w.required_rounded, actual),
               "plt": heads.get((p.id, "plt"), 0), "duties": w.duties, "duties_without_volume": w.duties_without_volume}
        rows.append(row)
        by_unit[p.unit_id].append(row)

    def own(uid: str) -> tuple[Decimal, int, int]:
        rs = by_unit.get(uid, [])
        return (sum((Decimal(r["required"]) for r in rs), Decimal("0.00")), sum(r["required_rounded"] for r in rs),
                sum(r["actual"] for r in rs))

    def subtree(uid: str) -> tuple[Decimal, int, int]:
        req, rounded, actual = own(uid)
        for child in children[uid]:
            a, b, c = subtree(child)
            req, rounded, actual = req + a, rounded + b, actual + c
        return req, rounded, actual

    unit_rows = []
    for uid in scope:
        u = units[uid]
        unit_rows.append({"unit_id": u.id, "code": u.code, "name": u.name, "kind": u.kind, "parent_id": u.parent_id,
                          **_totals(*own(uid)), "including_subunits": _totals(*subtree(uid))})
    roots = [unit_id] if unit_id else children[None]
    total = [Decimal("0.00"), 0, 0]
    for uid in roots:
        a, b, c = subtree(uid)
        total = [total[0] + a, total[1] + b, total[2] + c]
    return {"date": day.isoformat(), "year": day.year, "effective_minutes_per_year": minutes,
            "policy_is_default": is_default, "unit_id": unit_id, "totals": _totals(*total),
            "units": unit_rows, "positions": rows}
