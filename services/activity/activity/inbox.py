"""Handlers of incoming events: keep the local read models current (idempotency is the
consumer's job; staleness is ours: an older version never overwrites a newer one, and no order
between aggregates is assumed)."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from ekinerja_common.auth_store import on_account_revoked
from ekinerja_common.envelope import utcnow
from ekinerja_common.errors import Unrecoverable
from ekinerja_common.events import (ActivityDecided, AppealDecided, AppealFiled, ChangeAccepted, DeductionsUpdated,
                                    DutyPublished, DutyRetired, EmployeeData, Event, PeriodLocked, PlacementData,
                                    PositionData, UnitData)
from ekinerja_common.uow import UnitOfWork

from . import domain, services
from .domain import STATUS_OF_DECISION_EVENT
from .orm import ClosedPeriod, DeductionTable, Duty, Employee, Entry, Placement, Position, Unit
from .summary import Deltas

log = logging.getLogger("activity.inbox")


def on_employee_placed(uow: UnitOfWork, event: Event[PlacementData]) -> None:
    d, session = event.data, uow.session
    row = session.get(Placement, d.placement_id, with_for_update=True)
    if row is not None and row.version >= d.version:
        return
    if row is None:
        row = Placement(placement_id=d.placement_id)
        session.add(row)
    row.employee_id = d.employee_id
    row.position_id = d.position_id
    row.start_date = d.start_date
    row.end_date = d.end_date
    row.kind = d.kind
    row.version = d.version


def _duty_row(session: Session, d: DutyPublished | DutyRetired) -> Duty | None:
    """The row to write, or None when what is stored is as new or newer."""
    row = session.get(Duty, d.duty_id, with_for_update=True)
    if row is not None and row.version >= d.version:
        return None
    if row is None:
        row = Duty(duty_id=d.duty_id)
        session.add(row)
    return row


def on_duty_published(uow: UnitOfWork, event: Event[DutyPublished]) -> None:
    d = event.data
    row = _duty_row(uow.session, d)
    if row is None:
        return
    row.position_id = d.position_id
    row.description = d.description
    row.output_unit = d.output_unit
    row.norma_waktu = d.norma_waktu
    row.status = "published"
    row.version = d.version


def on_duty_retired(uow: UnitOfWork, event: Event[DutyRetired]) -> None:
    d = event.data
    row = _duty_row(uow.session, d)
    if row is None:
        return
    # Details stay as published (or empty, if the retirement overtook the publication).
    row.position_id = d.position_id
    row.status = "retired"
    row.version = d.version


def on_employee(uow: UnitOfWork, event: Event[EmployeeData]) -> None:
    d, session = event.data, uow.session
    row = session.get(Employee, d.employee_id, with_for_update=True)
    if row is not None and row.version >= d.version:
        return
    if row is None:
        row = Employee(employee_id=d.employee_id)
        session.add(row)
    row.nip = d.nip
    row.name = d.name
    row.active = d.active
    row.version = d.version


def on_position(uow: UnitOfWork, event: Event[PositionData]) -> None:
    d, session = event.data, uow.session
    row = session.get(Position, d.position_id, with_for_update=True)
    if row is not None and row.version >= d.version:
        return
    if row is None:
        row = Position(position_id=d.position_id)
        session.add(row)
    row.parent_id = d.parent_id
    row.name = d.name
    row.unit_id = d.unit_id
    row.version = d.version


def on_unit(uow: UnitOfWork, event: Event[UnitData]) -> None:
    """unit.created/updated carry the full state: one upsert, older versions ignored."""
    d, session = event.data, uow.session
    row = session.get(Unit, d.unit_id, with_for_update=True)
    if row is not None and row.version >= d.version:
        return
    if row is None:
        row = Unit(unit_id=d.unit_id)
        session.add(row)
    row.parent_id, row.code, row.name = d.parent_id, d.code, d.name
    row.active = d.active
    row.version = d.version


def _entry(session: Session, event: Event, entry_id: str, employee_id: str) -> Entry:
    entry = session.get(Entry, entry_id, with_for_update=True)
    if entry is None or entry.employee_id != employee_id:
        # Approval only knows entries we announced, so this is damage, not a race: fail and let
        # the message reach the dead-letter queue for an operator instead of dropping it.
        raise LookupError(f"{event.type} for unknown entry {entry_id} of employee {employee_id}")
    return entry


def _decide(session: Session, entry: Entry, verdict: domain.Settlement, status: str, version: int,
            decided_by: str, decided_at: datetime, reason: str | None) -> None:
    """Apply one of approval's decisions as ``domain.settle`` judged it, moving the month summary."""
    if verdict.apply:
        before = (entry.date, entry.status, entry.credited_minutes)
        if verdict.restore is not None:
            services.restore_claim(session, entry, verdict.restore)
            log.info("entry %s: decision on version %d supersedes the employee's %s", entry.id,
                     verdict.restore, verdict.superseded)
        entry.status = status
        entry.reason = reason
        entry.decision_version = version
        entry.decided_by = decided_by
        entry.decided_at = decided_at
        if verdict.superseded is not None:
            entry.superseded_change = verdict.superseded
        # Approval's numbering continues ours (its decision on version v is v + 1): keep in step, so
        # that a change after this decision outranks it there.
        entry.version = max(entry.version + 1, version)
        entry.updated_at = utcnow()
        deltas = Deltas()
        deltas.entry_change(entry.employee_id, before, (entry.date, entry.status, entry.credited_minutes))
        deltas.write(session)
    services.release_claims(session, entry, verdict.release_through)


def on_decision(uow: UnitOfWork, event: Event[ActivityDecided]) -> None:
    """approved / rejected / returned from approval (domain.settle says who wins a crossing)."""
    d, session = event.data, uow.session
    services.lock_employee(session, d.employee_id)  # first, as every writer of entries does
    entry = _entry(session, event, d.entry_id, d.employee_id)
    status = STATUS_OF_DECISION_EVENT[event.type]
    verdict = domain.settle(status, d.version, d.submission_version,
                            status=entry.status, decision_version=entry.decision_version,
                            submitted_version=entry.submitted_version)
    _decide(session, entry, verdict, status, d.version, d.decided_by, d.decided_at, getattr(d, "reason", None))


def on_change_accepted(uow: UnitOfWork, event: Event[ChangeAccepted]) -> None:
    """Approval took the employee's edit or withdrawal: no decision on an earlier version will
    come, so the earlier versions' slots are free."""
    d, session = event.data, uow.session
    services.lock_employee(session, d.employee_id)
    entry = _entry(session, event, d.entry_id, d.employee_id)
    services.release_claims(session, entry, d.version - 1)


def _appeal_applies(entry: Entry, appeal_id: str, version: int) -> bool:
    # Versions count within one appeal; a different (later) appeal of the entry starts afresh.
    return entry.appeal_id != appeal_id or version > entry.appeal_version


def on_appeal_filed(uow: UnitOfWork, event: Event[AppealFiled]) -> None:
    """The entry shows that it is under appeal (its status stays rejected until the decision)."""
    d, session = event.data, uow.session
    services.lock_employee(session, d.employee_id)
    for entry_id in d.entry_ids:
        entry = _entry(session, event, entry_id, d.employee_id)
        if _appeal_applies(entry, d.appeal_id, d.version):
            entry.appeal_id, entry.appeal_version, entry.appeal_outcome = d.appeal_id, d.version, None


def on_appeal_decided(uow: UnitOfWork, event: Event[AppealDecided]) -> None:
    """The one announcement of an appeal's outcome. Overturned: the entry becomes ``overturned``
    and its minutes count, as a decision on the rejected submission. Upheld: the rejection stands."""
    d, session = event.data, uow.session
    services.lock_employee(session, d.employee_id)
    for item in d.entries:
        entry = _entry(session, event, item.entry_id, d.employee_id)
        if _appeal_applies(entry, d.appeal_id, d.version):
            entry.appeal_id, entry.appeal_version, entry.appeal_outcome = d.appeal_id, d.version, d.outcome
        if d.outcome == "overturned":
            if item.submission_version is None:
                raise Unrecoverable(f"appeal {d.appeal_id} overturns entry {item.entry_id} without its rejected version")
            verdict = domain.settle("overturned", item.version, item.submission_version,
                                    status=entry.status, decision_version=entry.decision_version,
                                    submitted_version=entry.submitted_version)
            _decide(session, entry, verdict, "overturned", item.version, d.decided_by, d.decided_at, entry.reason)


def on_period_locked(uow: UnitOfWork, event: Event[PeriodLocked]) -> None:
    d, session = event.data, uow.session
    # A lock is final: a repeated announcement of the same month keeps the first record.
    if session.get(ClosedPeriod, (d.year, d.month)) is not None:
        return
    session.add(ClosedPeriod(year=d.year, month=d.month, locked_at=d.locked_at, locked_by=d.locked_by))


def on_deductions_updated(uow: UnitOfWork, event: Event[DeductionsUpdated]) -> None:
    """BPKAD's deduction table of a year (payroll's policy): the latest policy version wins. It
    prices codes from now on — the reported deduction of days recorded afterwards and the month's
    discipline % shown, as payroll prices them at its next compute; recorded days keep the codes
    they were given."""
    d, session = event.data, uow.session
    table = {code: str(pct) for code, pct in d.deductions_pct.items()}
    row = session.get(DeductionTable, d.year, with_for_update=True)
    if row is not None and row.policy_version >= d.policy_version:
        return
    if row is None:
        row = DeductionTable(year=d.year)
        session.add(row)
    row.deductions, row.policy_version, row.received_at = table, d.policy_version, utcnow()


HANDLERS = {
    "account.revoked": on_account_revoked,
    "employee.registered": on_employee,
    "employee.updated": on_employee,
    "employee.placed": on_employee_placed,
    "position.created": on_position,
    "position.updated": on_position,
    "unit.created": on_unit,
    "unit.updated": on_unit,
    "duty.published": on_duty_published,
    "duty.retired": on_duty_retired,
    **{name: on_decision for name in STATUS_OF_DECISION_EVENT},
    "activity.change_accepted": on_change_accepted,
    "appeal.filed": on_appeal_filed,
    "appeal.decided": on_appeal_decided,
    "tpp.period_locked": on_period_locked,
    "tpp.deductions_updated": on_deductions_updated,
}
