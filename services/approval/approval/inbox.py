"""Handlers of incoming events: keep the local read models and the validation queue current
(idempotency is the consumer's job; staleness is ours: an older version never overwrites a newer
one, and no order between aggregates is assumed)."""
from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from ekinerja_common.auth_store import on_account_revoked
from ekinerja_common.consumer import batch_form
from ekinerja_common.envelope import utcnow
from ekinerja_common.events import (ActivitySubmitted, ActivityWithdrawn, ChangeAccepted, EmployeeData, Event,
                                    PeriodLocked, PlacementData, PositionData)
from ekinerja_common.uow import UnitOfWork

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


def on_employee(uow: UnitOfWork, event: Event[EmployeeData]) -> None:
    d = event.data
    row = _newer_row(uow.session, Employee, d.employee_id, d.version, employee_id=d.employee_id)
    if row is None:
        return
    row.nip = d.nip
    row.name = d.name
    row.employee_kind = d.employee_kind
    row.status = d.status
    row.golongan = d.golongan
    row.active = d.active
    row.version = d.version


def on_position(uow: UnitOfWork, event: Event[PositionData]) -> None:
    d = event.data
    row = _newer_row(uow.session, Position, d.position_id, d.version, position_id=d.position_id)
    if row is None:
        return
    moved = row.version is None or row.parent_id != d.parent_id
    row.code = d.code
    row.name = d.name
    row.kind = d.kind
    row.kelas_jabatan = d.kelas_jabatan
    row.parent_id = d.parent_id
    row.unit_id = d.unit_id
    row.factor = d.factor
    row.version = d.version
    if moved:
        # New, or moved: every supervisor walk through it may end elsewhere (the queue's read model).
        queue_model.position_moved(uow.session, row.position_id)


def on_employee_placed(uow: UnitOfWork, event: Event[PlacementData]) -> None:
    d = event.data
    row = _newer_row(uow.session, Placement, d.placement_id, d.version, placement_id=d.placement_id)
    if row is None:
        return
    # The queue's read model: the items the placement affected as it was, and as it is now.
    queue_model.placement_changing(uow.session, row.employee_id, row.position_id, row.start_date, row.end_date)
    row.employee_id = d.employee_id
    row.position_id = d.position_id
    row.start_date = d.start_date
    row.end_date = d.end_date
    row.kind = d.kind
    row.version = d.version
    queue_model.placement_changing(uow.session, row.employee_id, row.position_id, row.start_date, row.end_date)


def _occurred_at(event: Event) -> datetime:
    try:
        return datetime.fromisoformat(event.occurred_at)
    except ValueError:
        return utcnow()


def _uncount(session: Session, row: ValidationItem) -> None:
    """An entry leaving a counted status takes its minutes out of the month-to-date counter, so
    the counter always equals the sum over counted entries. (_changed_row never lets a change
    reopen a counted entry; this keeps the counter right should that rule ever change.)"""
    if row.status in domain.COUNTED and row.date is not None:
        repository.count_minutes(session, [(row.employee_id, row.date, row.credited_minutes or 0)], sign=-1)


def _locked_item(session: Session, entry_id: str) -> ValidationItem | None:
    return session.get(ValidationItem, entry_id, with_for_update=True)


def _changed_row(session: Session, event: Event[ActivitySubmitted] | Event[ActivityWithdrawn],
                 stored: ValidationItem | None) -> tuple[ValidationItem | None, ChangeAccepted | None]:
    """The item an employee's change (a (re)submission or a withdrawal) may overwrite, or None; and
    the confirmation to publish once the row is written, or None. ``stored`` is the entry's item
    as stored, locked (None: there is none yet).

    **A decision stands**: once the supervisor approved or rejected (or an appeal overturned), no
    later change of the employee's is taken, whatever its version — it crossed the decision on its
    way here, and activity, on hearing the decision, puts the decided content back. A return
    yields to a newer change. A change taken over an earlier version is confirmed to activity
    (activity.change_accepted): until then activity keeps that version's time slot claimed."""
    d = event.data
    if stored is not None and stored.status in domain.FINAL:
        return None, None
    # The row is locked and loaded already: no second round trip for what _newer_row decides.
    if stored is None:
        row = ValidationItem(entry_id=d.entry_id)
        session.add(row)
    else:
        row = stored if stored.version < d.version else None
    withdrawal = event.type == "activity.withdrawn"
    # A first submission replaces nothing; every other change taken is confirmed (a withdrawal
    # even when it overtook its submission: activity waits for its word all the same).
    if row is None or (stored is None and not withdrawal):
        return row, None
    return row, ChangeAccepted(entry_id=d.entry_id, employee_id=d.employee_id, version=d.version,
                               status=domain.WITHDRAWN if withdrawal else domain.PENDING)


def on_activities_submitted(batch: list[tuple[UnitOfWork, Event[ActivitySubmitted]]]) -> None:
    """``on_activity_submitted`` for a run of submissions in a consumer's batch (a backlog catching
    up), in order, with the same effect: the run's stored items are loaded and locked by one
    SELECT … FOR UPDATE (in key order, as a second replica would lock them too), a later version
    of an entry in the run meets the earlier one as stored, and the rows are written by the
    session's one flush (one executemany INSERT, one per UPDATE shape) instead of one each."""
    session = batch[0][0].session
    ids = sorted({event.data.entry_id for _, event in batch})
    items = {row.entry_id: row for row in session.scalars(
        select(ValidationItem).where(repository.in_ids(session, ValidationItem.entry_id, ids))
        .order_by(ValidationItem.entry_id).with_for_update())}
    for uow, event in batch:
        row = _submit(uow, event, items.get(event.data.entry_id))
        if row is not None:
            items[row.entry_id] = row


@batch_form(on_activities_submitted)
def on_activity_submitted(uow: UnitOfWork, event: Event[ActivitySubmitted]) -> None:
    """A (re)submission: a higher version than stored puts the entry (back) in the queue."""
    _submit(uow, event, _locked_item(uow.session, event.data.entry_id))


def _submit(uow: UnitOfWork, event: Event[ActivitySubmitted], stored: ValidationItem | None) -> ValidationItem | None:
    """The submission applied over the stored item (locked); returns the item written, or None."""
    d = event.data
    row, confirmation = _changed_row(uow.session, event, stored)
    if row is None:
        return None
    _uncount(uow.session, row)
    row.employee_id = d.employee_id
    row.date = d.date
    row.start_time = d.start_time
    row.end_time = d.end_time
    row.duty_id = d.duty_id
    row.duty_description = d.duty_description
    row.volume = d.volume
    row.output_unit = d.output_unit
    row.credited_minutes = d.credited_minutes
    row.description = d.description
    row.status = domain.PENDING
    row.version = d.version
    row.submitted_at = _occurred_at(event)
    queue_model.item_submitted(uow.session, row.entry_id)
    if confirmation:
        uow.publish("activity.change_accepted", confirmation)
    return row


def on_activity_withdrawn(uow: UnitOfWork, event: Event[ActivityWithdrawn]) -> None:
    """Takes the entry out of the queue. Arriving before its submission, it leaves a tombstone at
    its version, so that the late (older) submission does not resurrect the entry."""
    d = event.data
    row, confirmation = _changed_row(uow.session, event, _locked_item(uow.session, d.entry_id))
    if row is None:
        return
    _uncount(uow.session, row)
    row.employee_id = d.employee_id
    row.date = d.date
    row.status = domain.WITHDRAWN
    row.version = d.version
    if confirmation:
        uow.publish("activity.change_accepted", confirmation)


def on_period_locked(uow: UnitOfWork, event: Event[PeriodLocked]) -> None:
    d = event.data
    if uow.session.get(LockedPeriod, (d.year, d.month)) is not None:
        return  # a lock is final; a repeated lock changes nothing
    uow.session.add(LockedPeriod(year=d.year, month=d.month, locked_at=d.locked_at, locked_by=d.locked_by))


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
