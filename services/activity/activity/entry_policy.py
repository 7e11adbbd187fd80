"""BKD's entry rules as data: the yearly submission window, and late-entry permissions (izin
pengisian susulan) that let a person or a unit enter past days outside it.

Why a permission and not a longer window: the window protects everyone's month (entries appear
while the supervisor can still judge them); a regency that starts using the system mid-month, or
catches up after an outage, needs an exception for named people and dates, with a reason and an
end — not a rule changed for all. The rules themselves (what a permission waives) are in
``domain._check_date``; this module only finds the facts and records BKD's decisions.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from ekinerja_common.envelope import utcnow
from ekinerja_common.errors import Conflict, FieldErrors, NotFound, Text
from ekinerja_common.uow import UnitOfWork

from . import domain
from .orm import Employee, LateEntryPermission, Placement, Position, SubmissionPolicyAudit, SubmissionPolicyRow, Unit

MAX_PERMISSION_DAYS = 366
PERMISSION_NOT_FOUND = Text("Izin pengisian susulan tidak ditemukan", "Late-entry permission not found")


# -- the yearly window ------------------------------------------------------------------------------

def stored_window_days(session: Session, year: int) -> int | None:
    row = session.get(SubmissionPolicyRow, year)
    return row.submission_window_days if row else None


def policy_json(session: Session, year: int, default: domain.EntryRules) -> dict:
    row = session.get(SubmissionPolicyRow, year)
    return {"year": year,
            "submission_window_days": row.submission_window_days if row else default.submission_window_days,
            "is_default": row is None, "version": row.version if row else 0,
            "updated_at": row.updated_at.isoformat() if row else None, "updated_by": row.updated_by if row else None}


def put_policy(uow: UnitOfWork, year: int, window_days: int, reason: str | None, actor: str,
               expected_version: int | None, default: domain.EntryRules) -> bool:
    """Store the year's window (admin_bkd); audited. False when nothing changed."""
    errors = FieldErrors()
    if not 0 <= window_days <= domain.MAX_SUBMISSION_WINDOW_DAYS:
        errors.add("submission_window_days", f"Harus 0 sampai {domain.MAX_SUBMISSION_WINDOW_DAYS} hari",
                   f"Must be 0 to {domain.MAX_SUBMISSION_WINDOW_DAYS} days")
    errors.raise_if_any()
    s = uow.session
    row = s.get(SubmissionPolicyRow, year, with_for_update=True)
    current = row.version if row else 0
    if expected_version is not None and expected_version != current:
        raise Conflict("stale_version", Text("Aturan tahun ini sudah diubah orang lain; muat ulang lalu ulangi",
                                             "This year's rules were changed meanwhile; reload and try again"))
    previous = row.submission_window_days if row else default.submission_window_days
    if row is not None and row.submission_window_days == window_days:
        return False
    now = utcnow()
    if row is None:
        row = SubmissionPolicyRow(year=year, version=0)
        s.add(row)
    row.submission_window_days, row.version, row.updated_at, row.updated_by = window_days, current + 1, now, actor
    s.add(SubmissionPolicyAudit(year=year, version=current + 1, submission_window_days=window_days,
                                previous_window_days=previous, reason=reason, changed_by=actor, changed_at=now,
                                request_id=uow.correlation_id))
    return True


def policy_history(session: Session, year: int) -> list[SubmissionPolicyAudit]:
    return list(session.scalars(select(SubmissionPolicyAudit).where(SubmissionPolicyAudit.year == year)
                                .order_by(SubmissionPolicyAudit.version)))


# -- late-entry permissions ---------------------------------------------------------------------------

def _unit_and_ancestors(session: Session, unit_ids: set[str]) -> set[str]:
    """The units and every unit above them (a permission to an OPD covers its bidang)."""
    if not unit_ids:
        return set()
    parent_of = {u: p for u, p in session.execute(select(Unit.unit_id, Unit.parent_id))}
    out: set[str] = set()
    for u in unit_ids:
        while u is not None and u not in out:
            out.add(u)
            u = parent_of.get(u)
    return out


@dataclass(frozen=True)
class LivePermission:
    """A permission not revoked, as the entry rules need it (entry_facts reads them)."""

    employee_id: str | None
    unit_id: str | None
    start_date: date
    end_date: date
    valid_until: date


def late_entry_until(session: Session, employee_id: str, day: date, position_ids: set[str]) -> date | None:
    """The last day a live permission lets ``employee_id`` enter ``day`` (None: none does). A unit
    permission covers whoever holds a post of that unit, or of a unit below it, on ``day``.
    One indexed query in the usual case (no permission covers the day); the unit tree is read
    only when a unit permission does."""
    live = [LivePermission(*row) for row in session.execute(select(
        LateEntryPermission.employee_id, LateEntryPermission.unit_id, LateEntryPermission.start_date,
        LateEntryPermission.end_date, LateEntryPermission.valid_until).where(
        LateEntryPermission.revoked_at.is_(None), LateEntryPermission.start_date <= day,
        LateEntryPermission.end_date >= day, or_(LateEntryPermission.employee_id == employee_id,
                                                 LateEntryPermission.unit_id.is_not(None))))]
    return late_entry_until_of(session, employee_id, day, position_ids, live)


def late_entry_until_of(session: Session, employee_id: str, day: date, position_ids: set[str],
                        permissions: list[LivePermission]) -> date | None:
    """``late_entry_until`` from live permissions already read (those of the person and every
    unit permission; the ones not covering ``day`` are skipped here). No statement at all in the
    usual case; the unit tree is read only when a unit permission covers the day."""
    live = [p for p in permissions if p.start_date <= day <= p.end_date
            and (p.employee_id == employee_id or p.unit_id is not None)]
    if not live:
        return None
    covering: set[str] = set()
    if position_ids and any(p.unit_id for p in live):
        units = {u for (u,) in session.execute(select(Position.unit_id).where(
            Position.position_id.in_(position_ids), Position.unit_id.is_not(None)))}
        covering = _unit_and_ancestors(session, units)
    until = [p.valid_until for p in live if p.employee_id == employee_id or (p.unit_id and p.unit_id in covering)]
    return max(until) if until else None


@dataclass(frozen=True)
class Grant:
    employee_id: str | None
    unit_id: str | None
    start_date: date
    end_date: date
    valid_until: date | None
    reason: str


def grant(uow: UnitOfWork, g: Grant, actor: str, today: date) -> LateEntryPermission:
    """Record BKD's permission; every problem of the request listed at once."""
    s = uow.session
    errors = FieldErrors()
    if bool(g.employee_id) == bool(g.unit_id):
        errors.add("employee_id", "Pilih satu pegawai atau satu unit", "Choose one employee or one unit")
    elif g.employee_id and s.get(Employee, g.employee_id) is None:
        errors.add("employee_id", "Pegawai tidak dikenal", "Unknown employee")
    elif g.unit_id and s.get(Unit, g.unit_id) is None:
        errors.add("unit_id", "Unit tidak dikenal", "Unknown unit")
    if g.end_date < g.start_date:
        errors.add("end_date", "Tanggal akhir sebelum tanggal awal", "The end date is before the start date")
    elif (g.end_date - g.start_date).days + 1 > MAX_PERMISSION_DAYS:
        errors.add("end_date", f"Paling lama {MAX_PERMISSION_DAYS} hari", f"At most {MAX_PERMISSION_DAYS} days")
    if g.end_date > today:
        errors.add("end_date", "Izin hanya untuk hari yang sudah lewat", "A permission is for past days only")
    valid_until = g.valid_until or today + timedelta(days=7)
    if valid_until < today:
        errors.add("valid_until", "Batas berlaku tidak boleh sebelum hari ini", "Valid-until cannot be before today")
    elif valid_until > today + timedelta(days=90):
        errors.add("valid_until", "Batas berlaku paling lama 90 hari dari hari ini", "At most 90 days from today")
    if len(g.reason.strip()) < 10:
        errors.add("reason", "Tuliskan alasan yang jelas (paling sedikit 10 karakter)",
                   "Give a clear reason (at least 10 characters)")
    errors.raise_if_any()
    row = LateEntryPermission(employee_id=g.employee_id or None, unit_id=g.unit_id or None, start_date=g.start_date,
                              end_date=g.end_date, valid_until=valid_until, reason=g.reason.strip(), granted_by=actor,
                              granted_at=utcnow())
    s.add(row)
    s.flush()
    return row


def revoke(uow: UnitOfWork, permission_id: str, reason: str, actor: str) -> LateEntryPermission:
    row = uow.session.get(LateEntryPermission, permission_id, with_for_update=True)
    if row is None:
        raise NotFound(PERMISSION_NOT_FOUND)
    if row.revoked_at is not None:
        raise Conflict("already_revoked", Text("Izin ini sudah dicabut", "This permission was already revoked"))
    errors = FieldErrors()
    if len(reason.strip()) < 5:
        errors.add("reason", "Tuliskan alasan pencabutan", "Give the reason for revoking")
    errors.raise_if_any()
    row.revoked_at, row.revoked_by, row.revoke_reason = utcnow(), actor, reason.strip()
    return row


def permissions_query(status: str, today: date, employee_id: str | None = None, unit_id: str | None = None) -> Select:
    """Permissions for BKD's list: ``active`` (not revoked, still usable today) or ``all``."""
    stmt = select(LateEntryPermission)
    if status == "active":
        stmt = stmt.where(LateEntryPermission.revoked_at.is_(None), LateEntryPermission.valid_until >= today)
    if employee_id:
        stmt = stmt.where(LateEntryPermission.employee_id == employee_id)
    if unit_id:
        stmt = stmt.where(LateEntryPermission.unit_id == unit_id)
    return stmt


def permissions_of(session: Session, employee_id: str, today: date) -> list[LateEntryPermission]:
    """The live permissions that apply to an employee today (own, or a unit of a post they hold
    on any day the permission covers): what the entry page tells them."""
    live = list(session.scalars(select(LateEntryPermission).where(
        LateEntryPermission.revoked_at.is_(None), LateEntryPermission.valid_until >= today)
        .order_by(LateEntryPermission.start_date)))
    out = []
    for p in live:
        if p.employee_id == employee_id:
            out.append(p)
        elif p.unit_id:
            posts = {pid for (pid,) in session.execute(select(Placement.position_id).where(
                Placement.employee_id == employee_id, Placement.start_date <= p.end_date,
                or_(Placement.end_date.is_(None), Placement.end_date >= p.start_date)))}
            units = {u for (u,) in session.execute(select(Position.unit_id).where(Position.position_id.in_(posts)))} \
                if posts else set()
            if p.unit_id in _unit_and_ancestors(session, {u for u in units if u}):
                out.append(p)
    return out


def permission_json(p: LateEntryPermission, names: dict[str, str] | None = None) -> dict:
    names = names or {}
    return {"id": p.id, "employee_id": p.employee_id, "employee_name": names.get(p.employee_id or ""),
            "unit_id": p.unit_id, "unit_name": names.get(p.unit_id or ""),
            "start_date": p.start_date.isoformat(), "end_date": p.end_date.isoformat(),
            "valid_until": p.valid_until.isoformat(), "reason": p.reason, "granted_by": p.granted_by,
            "granted_at": p.granted_at.isoformat(), "revoked_by": p.revoked_by,
            "revoked_at": p.revoked_at.isoformat() if p.revoked_at else None, "revoke_reason": p.revoke_reason}


def names_for(session: Session, rows: list[LateEntryPermission]) -> dict[str, str]:
    emp_ids = {r.employee_id for r in rows if r.employee_id}
    unit_ids = {r.unit_id for r in rows if r.unit_id}
    names: dict[str, str] = {}
    if emp_ids:
        names.update({k: v for k, v in session.execute(select(Employee.employee_id, Employee.name).where(Employee.employee_id.in_(emp_ids)))})
    if unit_ids:
        names.update({k: v for k, v in session.execute(select(Unit.unit_id, Unit.name).where(Unit.unit_id.in_(unit_ids)))})
    return names
