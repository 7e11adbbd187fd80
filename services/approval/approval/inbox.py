"""Handlers of incoming events: keep the local read models and the validation queue current
(idempotency is the consumer's job; staleness is ours: an older version never overwrites a newer
one, and no order between aggregates is assumed)."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import TypeVar

from sqlalchemy.orm import Session

from ekinerja_common.auth_store import on_account_revoked
from ekinerja_common.envelope import Envelope, utcnow
from ekinerja_common.uow import publisher

from . import domain, queue_model, repository
from .orm import Employee, LockedPeriod, Placement, Position, ValidationItem

Row = TypeVar("Row", Employee, Position, Placement, ValidationItem)


def _newer_row(session: Session, model: type[Row], key: str, version: int, **identity) -> Row | None:
    """The row to overwrite (created if absent), or None when what is stored is as new or newer.
    The row lock orders two replicas handling updates of the same aggregate."""
    row = session.get(model, key, with_for_update=True)
    if row is None:
        row = model(**identity)
        session.add(row)
        return row
    return row if row.version < version else None


def on_employee(session: Session, env: Envelope) -> None:
    d = env.data
    row = _newer_row(session, Employee, d["employee_id"], d["version"], employee_id=d["employee_id"])
    if row is None:
        return
    row.nip = d["nip"]
    row.name = d["name"]
    row.employee_kind = d["employee_kind"]
    row.status = d["status"]
    row.golongan = d["golongan"]
    row.active = bool(d["active"])
    row.version = d["version"]


def on_position(session: Session, env: Envelope) -> None:
    d = env.data
    row = _newer_row(session, Position, d["position_id"], d["version"], position_id=d["position_id"])
    if row is None:
        return
    moved = row.version is None or row.parent_id != d["parent_id"]
    row.code = d["code"]
    row.name = d["name"]
    row.kind = d["kind"]
    row.kelas_jabatan = int(d["kelas_jabatan"])
    row.parent_id = d["parent_id"]
    row.unit_id = d["unit_id"]
    row.factor = Decimal(str(d["factor"]))
    row.version = d["version"]
    if moved:
        # New, or moved: every supervisor walk through it may end elsewhere (the queue's read model).
        queue_model.position_moved(session, row.position_id)


def on_employee_placed(session: Session, env: Envelope) -> None:
    d = env.data
    row = _newer_row(session, Placement, d["placement_id"], d["version"], placement_id=d["placement_id"])
    if row is None:
        return
    # The queue's read model: the items the placement affected as it was, and as it is now.
    queue_model.placement_changing(session, row.employee_id, row.position_id, row.start_date, row.end_date)
    row.employee_id = d["employee_id"]
    row.position_id = d["position_id"]
    row.start_date = date.fromisoformat(d["start_date"])
    row.end_date = date.fromisoformat(d["end_date"]) if d["end_date"] else None
    row.kind = d["kind"]
    row.version = d["version"]
    queue_model.placement_changing(session, row.employee_id, row.position_id, row.start_date, row.end_date)


def _occurred_at(env: Envelope) -> datetime:
    try:
        return datetime.fromisoformat(env.occurred_at)
    except ValueError:
        return utcnow()


def _uncount(session: Session, row: ValidationItem) -> None:
    """An entry leaving a counted status takes its minutes out of the month-to-date counter, so
    the counter always equals the sum over counted entries. (_changed_row never lets a change
    reopen a counted entry; this keeps the counter right should that rule ever change.)"""
    if row.status in domain.COUNTED and row.date is not None:
        repository.count_minutes(session, [(row.employee_id, row.date, row.credited_minutes or 0)], sign=-1)


def _changed_row(session: Session, env: Envelope) -> tuple[ValidationItem | None, dict | None]:
    """The item an employee's change (a (re)submission or a withdrawal) may overwrite, or None; and
    the confirmation to publish once the row is written, or None.

    **A decision stands**: once the supervisor approved or rejected (or an appeal overturned), no
    later change of the employee's is taken, whatever its version — it crossed the decision on its
    way here, and activity, on hearing the decision, puts the decided content back. A return
    yields to a newer change. A change taken over an earlier version is confirmed to activity
    (activity.change_accepted): until then activity keeps that version's time slot claimed."""
    d = env.data
    stored = session.get(ValidationItem, d["entry_id"], with_for_update=True)
    if stored is not None and stored.status in domain.FINAL:
        return None, None
    row = _newer_row(session, ValidationItem, d["entry_id"], d["version"], entry_id=d["entry_id"])
    withdrawal = env.type == "activity.withdrawn"
    # A first submission replaces nothing; every other change taken is confirmed (a withdrawal
    # even when it overtook its submission: activity waits for its word all the same).
    if row is None or (stored is None and not withdrawal):
        return row, None
    return row, {"entry_id": d["entry_id"], "employee_id": d["employee_id"], "version": d["version"],
                 "status": domain.WITHDRAWN if withdrawal else domain.PENDING}


def on_activity_submitted(session: Session, env: Envelope) -> None:
    """A (re)submission: a higher version than stored puts the entry (back) in the queue."""
    d = env.data
    row, confirmation = _changed_row(session, env)
    if row is None:
        return
    _uncount(session, row)
    row.employee_id = d["employee_id"]
    row.date = date.fromisoformat(d["date"])
    row.start_time = time.fromisoformat(d["start_time"])
    row.end_time = time.fromisoformat(d["end_time"])
    row.duty_id = d["duty_id"]
    row.duty_description = d["duty_description"]
    row.volume = int(d["volume"])
    row.output_unit = d["output_unit"]
    row.credited_minutes = int(d["credited_minutes"])
    row.description = d["description"]
    row.status = domain.PENDING
    row.version = d["version"]
    row.submitted_at = _occurred_at(env)
    queue_model.item_submitted(session, row.entry_id)
    if confirmation:
        publisher(session)("activity.change_accepted", confirmation)


def on_activity_withdrawn(session: Session, env: Envelope) -> None:
    """Takes the entry out of the queue. Arriving before its submission, it leaves a tombstone at
    its version, so that the late (older) submission does not resurrect the entry."""
    d = env.data
    row, confirmation = _changed_row(session, env)
    if row is None:
        return
    _uncount(session, row)
    row.employee_id = d["employee_id"]
    row.date = date.fromisoformat(d["date"])
    row.status = domain.WITHDRAWN
    row.version = d["version"]
    if confirmation:
        publisher(session)("activity.change_accepted", confirmation)


def on_period_locked(session: Session, env: Envelope) -> None:
    d = env.data
    if session.get(LockedPeriod, (int(d["year"]), int(d["month"]))) is not None:
        return  # a lock is final; a repeated lock changes nothing
    session.add(LockedPeriod(year=int(d["year"]), month=int(d["month"]),
                             locked_at=datetime.fromisoformat(d["locked_at"]), locked_by=str(d["locked_by"])))


HANDLERS = {
    "account.revoked": on_account_revoked,
    "employee.registered": on_employee,
    "employee.updated": on_employee,
    "employee.placed": on_employee_placed,
    "position.created": on_position,
    "position.updated": on_position,
    "activity.submitted": on_activity_submitted,
    "activity.withdrawn": on_activity_withdrawn,
    "tpp.period_locked": on_period_locked,
}
