"""Everything the entry rules need from the database (domain.Facts) for one employee's drafts,
read with **one** statement.

A submission at month-end used to ask six questions one round trip at a time (the duty, the
placements, the month's lock and BKD's window, the day's other claims, a late-entry permission);
each costs a statement's parse, plan and result on both sides, which on a busy machine is most of
a submission. Here they are one ``UNION ALL`` of small indexed lookups, each branch filling the
columns its kind needs (``kind`` says which), so the same statement serves PostgreSQL and SQLite
and a batch of drafts as well as one (the drafts' dates, duties and years as IN lists).

On PostgreSQL the statement also reads the employee's lock row's ``xmin`` — the transaction that
last took the lock. Every writer of an employee's entries takes that lock first (services.
lock_employee, an upsert that writes a new row version), so an unchanged ``xmin`` at write time
means nobody changed the employee's entries since these facts were read: the submission then
takes the lock and writes in one more statement, checked against it (services._write_pg).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Date, Integer, String, Time, and_, bindparam, cast, literal_column, null, or_, select, union_all
from sqlalchemy.orm import Session

from . import domain, entry_policy
from .orm import ClosedPeriod, Duty, EmployeeLock, Entry, EntryClaim, LateEntryPermission, Placement, SubmissionPolicyRow

# The row shape every branch fills: what it does not need stays NULL. The first branch names and
# types the columns (typed NULLs, so that the union's columns have one type on both dialects); the
# others stay bare, which keeps the statement short enough for psycopg's cache of parsed queries.
_SHAPE = {"key": String, "ref": String, "label": String, "unit": String, "status": String,
          "d1": Date, "d2": Date, "d3": Date, "t1": Time, "t2": Time, "n": Integer, "m": Integer}


def _row(kind: str, first: bool = False, **values):
    if first:
        return [literal_column(f"'{kind}'", String).label("kind"),
                *((values[name] if name in values else cast(null(), type_)).label(name)
                  for name, type_ in _SHAPE.items())]
    return [literal_column(f"'{kind}'", String), *(values.get(name, null()) for name in _SHAPE)]


@functools.lru_cache(maxsize=4)
def _statement(with_lock_version: bool, one_day: bool):
    """Built once per process (SQLAlchemy then compiles it once): the bound values are the
    employee, the drafts' dates / duties / years, and the entry an edit excludes. ``one_day``
    (one draft, the usual submission): plain parameters instead of IN lists, which SQLAlchemy
    would otherwise render anew at every execution."""
    employee, exclude = bindparam("employee_id"), bindparam("exclude_id")
    first, last = bindparam("first_day", type_=Date), bindparam("last_day", type_=Date)
    if one_day:
        def among(column, name):
            return column == bindparam(name, type_=column.type)
    else:
        def among(column, name):
            return column.in_(bindparam(name + "s", expanding=True))
    # Spelled out rather than NOT IN (…): a constant list would still be an IN list to render.
    alive = and_(*(Entry.__table__.c.status != literal_column(f"'{s}'", String) for s in domain.DEAD_STATUSES))
    e, c, p, d, perm = (Entry.__table__.c, EntryClaim.__table__.c, Placement.__table__.c, Duty.__table__.c,
                        LateEntryPermission.__table__.c)
    branches = [
        select(*_row("duty", first=True, key=d.duty_id, ref=d.position_id, label=d.description, unit=d.output_unit,
                     status=d.status, n=d.norma_waktu)).where(among(d.duty_id, "duty_id")),
        # Posts held on any of the days (each draft keeps those of its own day); definitive first.
        select(*_row("placement", key=p.position_id, status=p.kind, d1=p.start_date, d2=p.end_date)).where(
            p.employee_id == employee, p.start_date <= last, or_(p.end_date.is_(None), p.end_date >= first)),
        # The day's other claims: each live entry's time, and each version of an entry approval
        # may still decide although the employee edited or withdrew it since (EntryClaim).
        select(*_row("slot", key=e.id, d1=e.date, t1=e.start_time, t2=e.end_time, n=e.credited_minutes)).where(
            e.employee_id == employee, among(e.date, "day"), alive, e.id != exclude),
        select(*_row("claim", key=c.entry_id, d1=c.date, t1=c.start_time, t2=c.end_time, n=c.credited_minutes)).where(
            c.employee_id == employee, among(c.date, "day"), c.entry_id != exclude),
        select(*_row("closed", n=ClosedPeriod.year, m=ClosedPeriod.month)).where(among(ClosedPeriod.year, "year")),
        select(*_row("window", n=SubmissionPolicyRow.year, m=SubmissionPolicyRow.submission_window_days)).where(
            among(SubmissionPolicyRow.year, "year")),
        # Live late-entry permissions of the person, or of any unit (entry_policy decides coverage).
        select(*_row("permission", key=perm.employee_id, ref=perm.unit_id, d1=perm.start_date, d2=perm.end_date,
                     d3=perm.valid_until)).where(
            perm.revoked_at.is_(None), perm.start_date <= last, perm.end_date >= first,
            or_(perm.employee_id == employee, perm.unit_id.is_not(None))),
    ]
    if with_lock_version:
        lock = EmployeeLock.__table__
        branches.append(select(*_row("lock", key=literal_column("employee_locks.xmin::text", String)))
                        .select_from(lock).where(lock.c.employee_id == employee))
    return union_all(*branches)


@dataclass
class Read:
    """The facts of each draft, in the drafts' order, and (PostgreSQL) the lock row's version as
    read: None when the employee has no lock row yet."""

    facts: list[domain.Facts]
    lock_version: str | None


def read(session: Session, employee_id: str, drafts: list[domain.Draft], exclude_id: str | None = None,
         revision_deadline: date | None = None, lock_version: bool = False) -> Read:
    days = sorted({dr.date for dr in drafts})
    duty_ids = sorted({dr.duty_id for dr in drafts})
    years = sorted({d.year for d in days})
    one_day = len(days) == len(duty_ids) == 1
    # Entry ids are never empty: "" excludes nothing.
    params = {"employee_id": employee_id, "first_day": days[0], "last_day": days[-1], "exclude_id": exclude_id or ""}
    if one_day:
        params.update(day=days[0], year=years[0], duty_id=duty_ids[0])
    else:
        params.update(days=days, years=years, duty_ids=duty_ids)
    # Core on the session's connection: no ORM entity is loaded, so the ORM's execution layer is skipped.
    rows = session.connection().execute(_statement(lock_version, one_day), params).all()
    duties: dict[str, domain.Duty] = {}
    placements: list[domain.Placement] = []
    slots: dict[date, list[domain.Slot]] = {}
    claims: dict[date, list[domain.Slot]] = {}
    closed: set[tuple[int, int]] = set()
    windows: dict[int, int] = {}
    permissions: list[entry_policy.LivePermission] = []
    version = None
    for r in rows:
        kind = r.kind
        if kind == "slot" or kind == "claim":
            (slots if kind == "slot" else claims).setdefault(r.d1, []).append(domain.Slot(r.t1, r.t2, r.n, r.key))
        elif kind == "duty":
            duties[r.key] = domain.Duty(r.key, r.ref, r.label or "", r.unit or "", r.n or 0, retired=r.status == "retired")
        elif kind == "placement":
            placements.append(domain.Placement(r.key, r.d1, r.d2, r.status))
        elif kind == "closed":
            closed.add((r.n, r.m))
        elif kind == "window":
            windows[r.n] = r.m
        elif kind == "permission":
            permissions.append(entry_policy.LivePermission(r.key, r.ref, r.d1, r.d2, r.d3))
        elif kind == "lock":
            version = r.key
    placements.sort(key=lambda pl: (pl.kind != "definitive", pl.start_date))
    facts = []
    for dr in drafts:
        held = tuple(pl for pl in placements
                     if pl.start_date <= dr.date and (pl.end_date is None or dr.date <= pl.end_date))
        facts.append(domain.Facts(
            duty=duties.get(dr.duty_id),
            placements=held,
            # Live entries first, then the claims: the first clash is the one the error names.
            others=tuple(slots.get(dr.date, ())) + tuple(claims.get(dr.date, ())),
            period_locked=(dr.date.year, dr.date.month) in closed,
            revision_deadline=revision_deadline,
            submission_window_days=windows.get(dr.date.year),
            late_entry_until=entry_policy.late_entry_until_of(
                session, employee_id, dr.date, {pl.position_id for pl in held}, permissions),
        ))
    return Read(facts, version)


def one(session: Session, employee_id: str, draft: domain.Draft, exclude_id: str | None = None,
        revision_deadline: date | None = None) -> domain.Facts:
    return read(session, employee_id, [draft], exclude_id, revision_deadline).facts[0]

