"""BKD's employee list: search and filters, paged server-side (ekinerja_common.paging), with each
person's post today. A regency has some 10,000 employees: the page is read through the
(name, id) index and the posts of the page's people are fetched in one query, never per row."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Iterable, Mapping

from sqlalchemy import Select, case, exists, false, func, or_, select
from sqlalchemy.orm import Session

from ekinerja_common.errors import FieldErrors

from .orm import Employee, Placement, PositionRef

STATUSES = ("CPNS", "PNS", "PPPK")
MAX_UNITS = 500  # a unit filter names the unit and its sub-units; a regency has a few hundred


@dataclass(frozen=True)
class Filters:
    q: str | None = None          # part of the name, or of the NIP (spaces ignored)
    nip: str | None = None        # the start of the NIP
    unit_ids: tuple[str, ...] = ()  # placed today in a post of one of these units
    status: str | None = None     # CPNS / PNS / PPPK
    active: bool | None = None    # None: both


def filters_from(args: Mapping[str, str], unit_ids: Iterable[str], errors: FieldErrors) -> Filters:
    """The filters of a query string; their problems go to ``errors`` (the caller raises)."""
    q = (args.get("q") or "").strip() or None
    if q is not None and len(q) > 100:
        errors.add("q", "Kata pencarian terlalu panjang (paling banyak 100 karakter)", "Search text too long (at most 100)")
    nip = re.sub(r"\s+", "", args.get("nip") or "") or None
    if nip is not None and not re.fullmatch(r"\d{1,18}", nip):
        errors.add("nip", "NIP hanya berisi angka (paling banyak 18)", "A NIP has digits only (at most 18)")
    status = (args.get("status") or "").strip().upper() or None
    if status is not None and status not in STATUSES:
        errors.add("status", "Status harus CPNS, PNS atau PPPK", "Status must be CPNS, PNS or PPPK")
    raw_active = (args.get("active") or "").strip().lower()
    active = {"": None, "true": True, "1": True, "false": False, "0": False}.get(raw_active, "bad")
    if active == "bad":
        errors.add("active", "Harus true atau false", "Must be true or false")
    units = tuple(dict.fromkeys(u.strip() for u in unit_ids if u and u.strip()))
    if len(units) > MAX_UNITS:
        errors.add("unit_id", f"Paling banyak {MAX_UNITS} unit", f"At most {MAX_UNITS} units")
    return Filters(q=q, nip=nip, unit_ids=units, status=status, active=None if active == "bad" else active)


def _placed_on(day: date):
    return (Placement.start_date <= day) & or_(Placement.end_date.is_(None), Placement.end_date >= day)


def employee_query(filters: Filters, day: date, visible: set[str] | None = None) -> Select:
    """The select of the employees the caller may see (``visible`` None = everyone) that match."""
    stmt = select(Employee)
    if visible is not None:
        stmt = stmt.where(Employee.id.in_(visible) if visible else false())
    if filters.q:
        digits = re.sub(r"\s+", "", filters.q)
        like = f"%{filters.q.lower()}%"
        by_name = func.lower(Employee.name).like(like)
        stmt = stmt.where(or_(by_name, Employee.nip.like(f"%{digits}%")) if digits.isdigit() else by_name)
    if filters.nip:
        stmt = stmt.where(Employee.nip.like(f"{filters.nip}%"))
    if filters.status:
        stmt = stmt.where(Employee.status == filters.status)
    if filters.active is not None:
        stmt = stmt.where(Employee.active.is_(filters.active))
    if filters.unit_ids:
        stmt = stmt.where(exists(
            select(Placement.id).join(PositionRef, PositionRef.position_id == Placement.position_id)
            .where(Placement.employee_id == Employee.id, _placed_on(day), PositionRef.unit_id.in_(filters.unit_ids))))
    return stmt


def posts_today(session: Session, employee_ids: list[str], day: date) -> dict[str, dict]:
    """Each person's post on ``day``: the definitive one with the latest start, else a Plt."""
    if not employee_ids:
        return {}
    rows = session.execute(
        select(Placement.employee_id, Placement.position_id, Placement.kind, Placement.start_date,
               PositionRef.name, PositionRef.unit_id)
        .outerjoin(PositionRef, PositionRef.position_id == Placement.position_id)
        .where(Placement.employee_id.in_(employee_ids), _placed_on(day))
        .order_by(Placement.employee_id, case((Placement.kind == "definitive", 0), else_=1),
                  Placement.start_date.desc())).all()
    out: dict[str, dict] = {}
    for r in rows:
        out.setdefault(r.employee_id, {"position_id": r.position_id, "position_name": r.name, "unit_id": r.unit_id,
                                       "kind": r.kind, "start_date": r.start_date.isoformat()})
    return out
