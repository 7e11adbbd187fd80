"""Service layer: each function is one use case, run inside a unit of work, and publishes the
events its change causes in the same transaction."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from ekinerja_common.envelope import utcnow
from ekinerja_common.errors import NotFound, Text
from ekinerja_common.uow import UnitOfWork

from . import domain, repository
from .orm import Decision, LockedPeriod, ValidationItem

EVENTS = {"approve": "activity.approved", "reject": "activity.rejected", "return": "activity.returned"}

ENTRY_NOT_FOUND = Text("Kegiatan tidak ditemukan", "Entry not found")


def iso_utc(moment: datetime) -> str:
    """The one spelling of an instant in events and responses (as the envelope's occurred_at)."""
    if moment.tzinfo is None:  # SQLite hands back the stored UTC without its zone
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def decision_data(item: ValidationItem, d: Decision) -> dict:
    data = {
        "entry_id": item.entry_id, "employee_id": item.employee_id, "date": item.date.isoformat(),
        "credited_minutes": item.credited_minutes, "decided_by": d.decided_by,
        "decided_at": iso_utc(d.decided_at), "version": item.version,
    }
    if d.decision in domain.REASON_REQUIRED:
        data["reason"] = d.reason
    return data


def decide(uow: UnitOfWork, entry_id: str, decision: str, caller_id: str | None, reason: str | None = None,
           request_id: str | None = None) -> tuple[ValidationItem, Decision]:
    """Approve, reject or return one pending entry as its supervisor on the entry's date."""
    reason = domain.check_reason(decision, reason)
    # The row lock makes concurrent deciders queue up: the second one then sees the first one's
    # decision and gets already_decided instead of recording a second verdict.
    item = uow.session.get(ValidationItem, entry_id, with_for_update=True)
    if item is None:
        raise NotFound(ENTRY_NOT_FOUND)
    # Resolved now, not when the entry arrived, so placements recorded late are honoured.
    domain.check_may_decide(item.employee_id, repository.supervisor_of(uow.session, item.employee_id, item.date), caller_id)
    locked = uow.session.get(LockedPeriod, (item.date.year, item.date.month)) is not None
    domain.check_decidable(item.status, locked)
    assert caller_id is not None  # check_may_decide refuses a caller without an employee record
    item.status = domain.DECISIONS[decision]
    item.version += 1
    record = Decision(entry_id=item.entry_id, decision=decision, reason=reason, decided_by=caller_id,
                      decided_at=utcnow(), request_id=request_id, version=item.version)
    uow.session.add(record)
    uow.session.flush()
    uow.publish(EVENTS[decision], decision_data(item, record))
    return item, record


def visible_entry(session: Session, entry_id: str, caller_id: str | None) -> tuple[ValidationItem, list[Decision]]:
    """An entry with its decision history, for the employee, their supervisor on the entry's date
    or whoever decided it before; anyone else learns nothing, not even that it exists."""
    item = session.get(ValidationItem, entry_id)
    if item is None or caller_id is None:
        raise NotFound(ENTRY_NOT_FOUND)
    history = session.scalars(select(Decision).where(Decision.entry_id == entry_id)
                              .order_by(Decision.decided_at, Decision.version)).all()
    allowed = (caller_id == item.employee_id
               or any(d.decided_by == caller_id for d in history)
               or repository.supervisor_of(session, item.employee_id, item.date) == caller_id)
    if not allowed:
        raise NotFound(ENTRY_NOT_FOUND)
    return item, list(history)
