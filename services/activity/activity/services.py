"""Service layer: each function is one use case, run inside a unit of work (or, for reads, a
session), and publishes the events its change causes in the same transaction."""
from __future__ import annotations

from datetime import date

from sqlalchemy import case, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ekinerja_common.envelope import utcnow
from ekinerja_common.errors import NotFound, Text
from ekinerja_common.uow import UnitOfWork

from . import domain
from .orm import ClosedPeriod, Duty, EmployeeLock, Entry, Placement


def entry_data(e: Entry) -> dict:
    return {
        "entry_id": e.id, "employee_id": e.employee_id, "date": e.date.isoformat(),
        "start_time": e.start_time.strftime("%H:%M"), "end_time": e.end_time.strftime("%H:%M"),
        "duty_id": e.duty_id, "duty_description": e.duty_description, "volume": e.volume,
        "output_unit": e.output_unit, "credited_minutes": e.credited_minutes, "description": e.description,
        "version": e.version,
    }


def _placements(session: Session, employee_id: str, day: date) -> list[Placement]:
    return list(session.scalars(
        select(Placement).where(Placement.employee_id == employee_id, Placement.start_date <= day,
                                or_(Placement.end_date.is_(None), Placement.end_date >= day))
        .order_by(case((Placement.kind == "definitive", 0), else_=1), Placement.start_date)
    ))


def _as_duty(row: Duty | None) -> domain.Duty | None:
    if row is None:
        return None
    return domain.Duty(row.duty_id, row.position_id, row.description or "", row.output_unit or "",
                       row.norma_waktu or 0, retired=row.status == "retired")


def _facts(session: Session, employee_id: str, draft: domain.Draft) -> domain.Facts:
    others = session.scalars(
        select(Entry).where(Entry.employee_id == employee_id, Entry.date == draft.date,
                            Entry.status.not_in(domain.DEAD_STATUSES))
    )
    return domain.Facts(
        duty=_as_duty(session.get(Duty, draft.duty_id)),
        placements=tuple(domain.Placement(p.position_id, p.start_date, p.end_date, p.kind)
                         for p in _placements(session, employee_id, draft.date)),
        others=tuple(domain.Slot(o.start_time, o.end_time, o.credited_minutes) for o in others),
        period_locked=session.get(ClosedPeriod, (draft.date.year, draft.date.month)) is not None,
    )


def duties_on(session: Session, employee_id: str, day: date) -> tuple[list[Placement], list[Duty]]:
    """The posts the employee holds on ``day`` (definitive first) and their live duties."""
    placements = _placements(session, employee_id, day)
    positions = {p.position_id for p in placements}
    duties = list(session.scalars(
        select(Duty).where(Duty.position_id.in_(positions), Duty.status == "published").order_by(Duty.description)
    )) if positions else []
    return placements, duties


def preview_entry(session: Session, employee_id: str, draft: domain.Draft, today: date,
                  policy: domain.Policy) -> domain.Assessment:
    return domain.assess(draft, _facts(session, employee_id, draft), today, policy)


def _lock_employee(session: Session, employee_id: str) -> None:
    """Serialize this employee's submissions until the transaction ends."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # The upsert waits for a concurrent first insert of the same row, so no one slips through
    # while the row is being created; SQLite's BEGIN IMMEDIATE already serializes writers.
    session.execute(insert(EmployeeLock).values(employee_id=employee_id).on_conflict_do_nothing())
    session.execute(select(EmployeeLock).where(EmployeeLock.employee_id == employee_id).with_for_update())


def submit_entry(uow: UnitOfWork, employee_id: str, draft: domain.Draft, today: date,
                 policy: domain.Policy) -> Entry:
    _lock_employee(uow.session, employee_id)
    facts = _facts(uow.session, employee_id, draft)
    assessment = domain.assess(draft, facts, today, policy)
    assessment.raise_if_invalid()
    duty = facts.duty
    assert duty is not None and assessment.credited_minutes is not None  # guaranteed by a valid assessment
    now = utcnow()
    entry = Entry(
        employee_id=employee_id, date=draft.date, start_time=draft.start_time, end_time=draft.end_time,
        duty_id=duty.duty_id, duty_description=duty.description, output_unit=duty.output_unit,
        norma_waktu=duty.norma_waktu, volume=draft.volume, description=draft.description.strip(),
        credited_minutes=assessment.credited_minutes, status="submitted", decision_version=0, version=1,
        created_at=now, updated_at=now,
    )
    uow.session.add(entry)
    uow.session.flush()
    uow.publish("activity.submitted", entry_data(entry))
    return entry


def own_entry(session: Session, employee_id: str, entry_id: str, lock: bool = False) -> Entry:
    """The caller's entry; someone else's is reported as missing, since its existence is private."""
    entry = session.get(Entry, entry_id, with_for_update=True if lock else None)
    if entry is None or entry.employee_id != employee_id:
        raise NotFound(Text("Kegiatan tidak ditemukan", "Entry not found"))
    return entry


def withdraw_entry(uow: UnitOfWork, employee_id: str, entry_id: str) -> Entry:
    # The row lock orders this against a decision arriving through the consumer at the same time.
    entry = own_entry(uow.session, employee_id, entry_id, lock=True)
    domain.check_withdrawable(entry.status)
    entry.status = "withdrawn"
    entry.version += 1
    entry.updated_at = utcnow()
    uow.session.flush()
    uow.publish("activity.withdrawn", {"entry_id": entry.id, "employee_id": entry.employee_id,
                                       "date": entry.date.isoformat(), "version": entry.version})
    return entry
