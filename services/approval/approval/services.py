"""Service layer: each function is one use case, run inside a unit of work, and publishes the
events its change causes in the same transaction."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Iterable, Sequence

from sqlalchemy import exists, func, insert, select, tuple_, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ekinerja_common.envelope import Envelope, utcnow
from ekinerja_common.errors import DomainError, NotFound
from ekinerja_common.uow import UnitOfWork

from . import domain, queue_model, repository
from .domain import ENTRY_NOT_FOUND
from .orm import (DeciderMonth, Decision, Employee, Escalation, LockedPeriod, PolicyChange, ValidationItem, ValidationPolicy,
                  new_id)

EVENTS = {"approve": "activity.approved", "reject": "activity.rejected", "return": "activity.returned"}


def iso_utc(moment: datetime) -> str:
    """The one spelling of an instant in events and responses (as the envelope's occurred_at:
    ``YYYY-MM-DDTHH:MM:SS.ffffffZ``)."""
    if moment.tzinfo is None:  # SQLite hands back the stored UTC without its zone
        moment = moment.replace(tzinfo=timezone.utc)
    # isoformat is done in C: thousands of times faster in sum than strftime for a full queue.
    return moment.astimezone(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def decision_data(item: ValidationItem, d: Decision) -> dict:
    data = {
        "entry_id": item.entry_id, "employee_id": item.employee_id, "date": item.date.isoformat(),
        "credited_minutes": item.credited_minutes, "decided_by": d.decided_by,
        "decided_at": iso_utc(d.decided_at), "version": item.version,
        # A decision is numbered one above the submission it judged (_apply).
        "submission_version": d.version - 1,
    }
    if d.decision in domain.REASON_REQUIRED:
        data["reason"] = d.reason
    return data


def publish_all(uow: UnitOfWork, event_type: str, datas: Sequence[dict]) -> list[Envelope]:
    """Publish many events of one type in the unit of work. ``UnitOfWork.publish_many`` (same
    catalogue check and envelope as ``publish``, but one multi-row INSERT instead of one round trip
    per event: a bulk decision of 1,000 entries is 1,000 events) is used where ekinerja_common has
    it; otherwise each event goes through ``publish`` — the same rows, only slower."""
    many = getattr(uow, "publish_many", None)
    if many is not None and len(datas) > 1:
        return many(event_type, datas)
    return [uow.publish(event_type, data) for data in datas]


# -- supervisor decisions ---------------------------------------------------------------------------

def lock_items(session: Session, entry_ids: Iterable[str]) -> dict[str, ValidationItem]:
    """Load and row-lock the items in one statement. The lock makes concurrent deciders queue up
    (the second then sees the first one's decision and gets already_decided); taking the locks in
    entry_id order means two overlapping bulk decisions can never deadlock."""
    ids = sorted(set(entry_ids))
    if not ids:
        return {}
    rows = session.scalars(select(ValidationItem).where(repository.in_ids(session, ValidationItem.entry_id, ids))
                           .order_by(ValidationItem.entry_id).with_for_update())
    return {item.entry_id: item for item in rows}


def locked_months(session: Session, days: Iterable[date]) -> set[tuple[int, int]]:
    months = {(d.year, d.month) for d in days}
    if not months:
        return set()
    return {(y, m) for y, m in session.execute(
        select(LockedPeriod.year, LockedPeriod.month).where(tuple_(LockedPeriod.year, LockedPeriod.month).in_(months)))}


def _problems(session: Session, entry_ids: Sequence[str], items: dict[str, ValidationItem],
              caller_id: str | None) -> list[tuple[int, str, DomainError]]:
    """What stands in the way of deciding each entry, checked set-wise: one roster for every
    supervisor resolution, one query for escalations, one for locked months. Resolved now, not
    when the entry arrived, so placements recorded late are honoured."""
    supervisors = repository.supervisors_for(session, {(i.employee_id, i.date) for i in items.values()})
    escalations = repository.escalations_of(session, items)
    locked = locked_months(session, (i.date for i in items.values()))
    problems: list[tuple[int, str, DomainError]] = []
    for n, entry_id in enumerate(entry_ids):
        item = items.get(entry_id)
        problem: DomainError | None
        if item is None:
            problem = NotFound(ENTRY_NOT_FOUND)
        else:
            esc = escalations.get(entry_id)
            problem = (domain.authority_problem(item.employee_id, supervisors[(item.employee_id, item.date)], caller_id,
                                                esc.escalated_to if esc else None)
                       or domain.state_problem(item.status, (item.date.year, item.date.month) in locked))
        if problem is not None:
            problems.append((n, entry_id, problem))
    return problems


def _apply(uow: UnitOfWork, items: Sequence[ValidationItem], decision: str, caller_id: str, reason: str | None,
           request_id: str | None) -> list[tuple[ValidationItem, Decision]]:
    """Record one decision on already locked and checked items, set-wise: one UPDATE of every item
    (all move to the same status and one version up), one multi-row INSERT of the audit rows."""
    now = utcnow()
    status = domain.STATUS_AFTER[decision]
    table = ValidationItem.__table__
    uow.session.execute(update(table).where(repository.in_ids(uow.session, table.c.entry_id, [i.entry_id for i in items]))
                        .values(status=status, version=table.c.version + 1, updated_at=now))
    records = []
    for item in items:
        # The rows are locked by this transaction, so the loaded objects may simply be told what
        # the UPDATE wrote (without becoming dirty and being written a second time).
        set_committed_value(item, "status", status)
        set_committed_value(item, "version", item.version + 1)
        set_committed_value(item, "updated_at", now)
        records.append(Decision(id=new_id(), entry_id=item.entry_id, decision=decision, reason=reason,
                                decided_by=caller_id, decided_at=now, request_id=request_id, version=item.version))
    uow.session.execute(insert(Decision.__table__), [
        {"id": r.id, "entry_id": r.entry_id, "decision": r.decision, "reason": r.reason, "decided_by": r.decided_by,
         "decided_at": r.decided_at, "request_id": r.request_id, "version": r.version} for r in records])
    # The counters move in the same transaction as the decisions they count (the queue's counts
    # are recounted at the commit: the UPDATE bypassed the ORM, so it is told which months).
    queue_model.items_changed(uow.session, items)
    if status in domain.COUNTED:
        repository.count_minutes(uow.session, [(i.employee_id, i.date, i.credited_minutes or 0) for i in items])
    repository.count_decisions(uow.session, caller_id, status, [i.date for i in items])
    pairs = list(zip(items, records))
    publish_all(uow, EVENTS[decision], [decision_data(item, record) for item, record in pairs])
    return pairs


def decide(uow: UnitOfWork, entry_id: str, decision: str, caller_id: str | None, reason: str | None = None,
           request_id: str | None = None) -> tuple[ValidationItem, Decision]:
    """Approve, reject or return one pending entry as its supervisor on the entry's date (or the
    one above, once the deadline escalated it)."""
    reason = domain.check_reason(decision, reason)
    items = lock_items(uow.session, [entry_id])
    problems = _problems(uow.session, [entry_id], items, caller_id)
    if problems:
        raise problems[0][2]
    assert caller_id is not None  # the authority check refuses a caller without an employee record
    [pair] = _apply(uow, [items[entry_id]], decision, caller_id, reason, request_id)
    return pair


def decide_many(uow: UnitOfWork, entry_ids: Sequence[str], decision: str, caller_id: str | None,
                reason: str | None = None, request_id: str | None = None) -> list[tuple[ValidationItem, Decision]]:
    """One decision on up to 1,000 entries, all or nothing: every entry is checked (authority,
    state, locked month) and if any fails nothing is decided and every failure is reported. One
    transaction, one audit row and one event per entry."""
    reason = domain.check_reason(decision, reason)
    domain.check_entry_ids(entry_ids)
    items = lock_items(uow.session, entry_ids)
    problems = _problems(uow.session, entry_ids, items, caller_id)
    if problems:
        raise domain.BulkRefused(problems)
    assert caller_id is not None
    return _apply(uow, [items[e] for e in entry_ids], decision, caller_id, reason, request_id)


def visible_entry(session: Session, entry_id: str, caller_id: str | None) -> tuple[ValidationItem, list[Decision], Escalation | None]:
    """An entry with its decision history, for the employee, their supervisor on the entry's date,
    whoever the deadline escalated it to or whoever decided it before; anyone else learns nothing,
    not even that it exists."""
    item = session.get(ValidationItem, entry_id)
    if item is None or caller_id is None:
        raise NotFound(ENTRY_NOT_FOUND)
    history = session.scalars(select(Decision).where(Decision.entry_id == entry_id)
                              .order_by(Decision.decided_at, Decision.version)).all()
    escalation = repository.escalations_of(session, [entry_id]).get(entry_id)
    allowed = (caller_id == item.employee_id
               or any(d.decided_by == caller_id for d in history)
               or (escalation is not None and escalation.escalated_to == caller_id)
               or repository.supervisor_of(session, item.employee_id, item.date) == caller_id)
    if not allowed:
        raise NotFound(ENTRY_NOT_FOUND)
    return item, list(history), escalation


# -- policy -----------------------------------------------------------------------------------------

def policies_for(session: Session, years: Iterable[int]) -> dict[int, domain.ValidationRules]:
    """Each year's stored policy, or the defaults for a year BKD has not set."""
    wanted = set(years)
    stored = {p.year: p for p in session.scalars(select(ValidationPolicy).where(ValidationPolicy.year.in_(wanted)))} if wanted else {}
    return {y: _policy(stored[y]) if y in stored else domain.DEFAULT_POLICY for y in wanted}


def policy_for(session: Session, year: int) -> domain.ValidationRules:
    return policies_for(session, [year])[year]


def _policy(row: ValidationPolicy) -> domain.ValidationRules:
    return domain.ValidationRules(validation_deadline_day=row.validation_deadline_day, appeal_window_days=row.appeal_window_days,
                         first_level_days=row.first_level_days, board_rejection_rate_pct=row.board_rejection_rate_pct,
                         board_min_decisions=row.board_min_decisions)


def policy_view(session: Session, year: int) -> dict:
    row = session.get(ValidationPolicy, year)
    policy = _policy(row) if row else domain.DEFAULT_POLICY
    return {"year": year, **policy.as_json(), "version": row.version if row else 0, "is_default": row is None,
            "updated_by": row.updated_by if row else None,
            "updated_at": iso_utc(row.updated_at) if row else None}


def put_policy(uow: UnitOfWork, year: int, values: dict, actor_account_id: str) -> dict:
    """Store a year's whole policy document (validated field by field) and audit the change.
    It governs what happens from now on: entries already escalated stay escalated."""
    policy = domain.check_policy(values)
    row = uow.session.get(ValidationPolicy, year, with_for_update=True)
    now = utcnow()
    if row is None:
        row = ValidationPolicy(year=year, version=0, **policy.as_json(), updated_by=actor_account_id, updated_at=now)
        uow.session.add(row)
    for key, value in policy.as_json().items():
        setattr(row, key, value)
    row.version += 1
    row.updated_by, row.updated_at = actor_account_id, now
    uow.session.add(PolicyChange(year=year, version=row.version, document=json.dumps(policy.as_json(), sort_keys=True),
                                 changed_by=actor_account_id, changed_at=now, request_id=uow.correlation_id))
    uow.session.flush()
    return policy_view(uow.session, year)


# -- deadlines: the escalation job --------------------------------------------------------------------

def escalate_overdue_entries(uow: UnitOfWork, today: date, after: tuple[date, str] | None,
                             batch: int) -> tuple[int, int, tuple[date, str] | None]:
    """One batch of the escalation job: pending entries past their deadline that have no
    escalation yet, in (date, entry_id) order after ``after``. Returns (examined, escalated, the
    key to continue after; None when done).

    Idempotent and safe to run concurrently: the insert skips an (entry, level) another run
    stored meanwhile (ON CONFLICT DO NOTHING), so no entry is escalated or counted twice."""
    previous = domain.first_of_previous_month(today)
    cutoff = domain.late_before(today, policy_for(uow.session, previous.year).validation_deadline_day)
    query = (select(ValidationItem.entry_id, ValidationItem.employee_id, ValidationItem.date)
             .where(ValidationItem.status == domain.PENDING, ValidationItem.date < cutoff,
                    ~exists().where(Escalation.entry_id == ValidationItem.entry_id, Escalation.level == 1))
             .order_by(ValidationItem.date, ValidationItem.entry_id).limit(batch))
    if after is not None:
        query = query.where(tuple_(ValidationItem.date, ValidationItem.entry_id) > tuple_(*after))
    rows = uow.session.execute(query).all()
    if not rows:
        return 0, 0, None
    # The supervisor and the one above them in the employee's line (the shared rule: for a Plt,
    # the line of the post they act in).
    lines = repository.lines_for(uow.session, {(r.employee_id, r.date) for r in rows}, levels=2)
    policies = policies_for(uow.session, {r.date.year for r in rows})
    now = utcnow()
    values = []
    for r in rows:
        line = lines[(r.employee_id, r.date)]
        if not line:
            continue  # nobody supervises the entry (yet): nobody is late; a later run looks again
        late, target = line[0], (line[1] if len(line) > 1 else None)
        values.append({
            "id": new_id(), "entry_id": r.entry_id, "level": 1, "employee_id": r.employee_id, "entry_date": r.date,
            "year": r.date.year, "month": r.date.month, "late_supervisor_id": late,
            # The shared rule never names the employee themself at any level.
            "escalated_to": target,
            "deadline": domain.validation_deadline(r.date, policies[r.date.year].validation_deadline_day),
            "escalated_at": now,
        })
    inserted = 0
    if values:
        stmt = (repository.dialect_insert(uow.session, Escalation.__table__).values(values)  # type: ignore[arg-type]
                .on_conflict_do_nothing(index_elements=["entry_id", "level"]).returning(Escalation.__table__.c.entry_id))
        escalated = {r[0] for r in uow.session.execute(stmt)}
        inserted = len(escalated)
        # An escalated item now also waits in the queue of the one it went to (recounted at the commit).
        queue_model.items_changed(uow.session, (r for r in rows if r.entry_id in escalated))
    return len(rows), inserted, (rows[-1].date, rows[-1].entry_id)


# -- reports ----------------------------------------------------------------------------------------

def late_validations(session: Session, year: int, month: int) -> list[dict]:
    """Per supervisor: how many entries of the month they had not validated by the deadline
    (escalated), of which still pending now; read from the escalations the job recorded."""
    pending = func.count().filter(ValidationItem.status == domain.PENDING)
    rows = session.execute(
        select(Escalation.late_supervisor_id, func.count(), pending, func.count(Escalation.employee_id.distinct()),
               Employee.name, Employee.nip)
        .join(ValidationItem, ValidationItem.entry_id == Escalation.entry_id)
        .outerjoin(Employee, Employee.employee_id == Escalation.late_supervisor_id)
        .where(Escalation.year == year, Escalation.month == month, Escalation.level == 1)
        .group_by(Escalation.late_supervisor_id, Employee.name, Employee.nip)
        .order_by(func.count().desc(), Escalation.late_supervisor_id)
    ).all()
    return [{"supervisor_id": sid, "name": name, "nip": nip, "late_entries": late, "still_pending": still,
             "employees": people} for sid, late, still, people, name, nip in rows]


def rejection_rates(session: Session, year: int, month: int) -> dict:
    """Per decider, how they decided the entries of the month (by entry date) and whether their
    rejection rate is what sends an appeal straight to the board (the policy's threshold, the same
    rule ``appeals.file_appeals`` applies)."""
    policy = policy_for(session, year)
    rows = session.execute(
        select(DeciderMonth, Employee.name, Employee.nip)
        .outerjoin(Employee, Employee.employee_id == DeciderMonth.decided_by)
        .where(DeciderMonth.year == year, DeciderMonth.month == month)).all()
    out = []
    for r, name, nip in rows:
        total = r.approved + r.rejected + r.returned
        if total == 0:
            continue
        out.append({"supervisor_id": r.decided_by, "name": name, "nip": nip, "approved": r.approved,
                    "rejected": r.rejected, "returned": r.returned, "decisions": total,
                    "rejection_rate_pct": str((Decimal(r.rejected * 100) / total).quantize(Decimal("0.1"))),
                    "board_trigger": domain.rejection_rate_abnormal(r.rejected, total, policy)})
    out.sort(key=lambda x: (-Decimal(x["rejection_rate_pct"]), -x["decisions"], x["name"] or ""))
    return {"board_rejection_rate_pct": policy.board_rejection_rate_pct,
            "board_min_decisions": policy.board_min_decisions, "supervisors": out}


def pending_validations(session: Session, year: int, month: int, today: date) -> dict:
    """Entries of the month still awaiting a decision, per employee, against the month's deadline:
    what BPKAD must know before paying (their minutes are not in the run yet)."""
    policy = policy_for(session, year)
    first = date(year, month, 1)
    after = domain.first_of_next_month(first)
    deadline = domain.validation_deadline(first, policy.validation_deadline_day)
    rows = session.execute(
        select(ValidationItem.employee_id, Employee.name, Employee.nip, func.count(),
               func.coalesce(func.sum(ValidationItem.credited_minutes), 0))
        .outerjoin(Employee, Employee.employee_id == ValidationItem.employee_id)
        .where(ValidationItem.status == domain.PENDING, ValidationItem.date >= first, ValidationItem.date < after)
        .group_by(ValidationItem.employee_id, Employee.name, Employee.nip)
        .order_by(func.count().desc(), Employee.name)).all()
    employees = [{"employee_id": e, "name": n, "nip": nip, "pending_entries": c, "pending_minutes": int(m)}
                 for e, n, nip, c, m in rows]
    return {"month": f"{year:04d}-{month:02d}", "deadline": deadline.isoformat(), "past_deadline": today > deadline,
            "pending_entries": sum(e["pending_entries"] for e in employees), "employees": employees}
