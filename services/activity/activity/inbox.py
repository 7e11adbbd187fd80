"""Handlers of incoming events: keep the local read models current (idempotency is the
consumer's job; staleness is ours: an older version never overwrites a newer one, and no order
between aggregates is assumed)."""
from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from ekinerja_common.auth_store import on_account_revoked
from ekinerja_common.envelope import Envelope, utcnow

from . import domain, services
from .domain import DECISIONS
from .orm import ClosedPeriod, DeductionTable, Duty, Employee, Entry, Placement, Position, Unit
from .summary import Deltas

log = logging.getLogger("activity.inbox")


def on_employee_placed(session: Session, env: Envelope) -> None:
    d = env.data
    row = session.get(Placement, d["placement_id"], with_for_update=True)
    if row is not None and row.version >= d["version"]:
        return
    if row is None:
        row = Placement(placement_id=d["placement_id"])
        session.add(row)
    row.employee_id = d["employee_id"]
    row.position_id = d["position_id"]
    row.start_date = date.fromisoformat(d["start_date"])
    row.end_date = date.fromisoformat(d["end_date"]) if d["end_date"] else None
    row.kind = d["kind"]
    row.version = d["version"]


def _duty_row(session: Session, d: dict) -> Duty | None:
    """The row to write, or None when what is stored is as new or newer."""
    row = session.get(Duty, d["duty_id"], with_for_update=True)
    if row is not None and row.version >= d["version"]:
        return None
    if row is None:
        row = Duty(duty_id=d["duty_id"])
        session.add(row)
    return row


def on_duty_published(session: Session, env: Envelope) -> None:
    d = env.data
    row = _duty_row(session, d)
    if row is None:
        return
    row.position_id = d["position_id"]
    row.description = d["description"]
    row.output_unit = d["output_unit"]
    row.norma_waktu = d["norma_waktu"]
    row.status = "published"
    row.version = d["version"]


def on_duty_retired(session: Session, env: Envelope) -> None:
    d = env.data
    row = _duty_row(session, d)
    if row is None:
        return
    # Details stay as published (or empty, if the retirement overtook the publication).
    row.position_id = d["position_id"]
    row.status = "retired"
    row.version = d["version"]


def on_employee(session: Session, env: Envelope) -> None:
    d = env.data
    row = session.get(Employee, d["employee_id"], with_for_update=True)
    if row is not None and row.version >= d["version"]:
        return
    if row is None:
        row = Employee(employee_id=d["employee_id"])
        session.add(row)
    row.nip = str(d["nip"])
    row.name = d["name"]
    row.active = bool(d["active"])
    row.version = d["version"]


def on_position(session: Session, env: Envelope) -> None:
    d = env.data
    row = session.get(Position, d["position_id"], with_for_update=True)
    if row is not None and row.version >= d["version"]:
        return
    if row is None:
        row = Position(position_id=d["position_id"])
        session.add(row)
    row.parent_id = d["parent_id"]
    row.name = d["name"]
    row.unit_id = d.get("unit_id")
    row.version = d["version"]


def on_unit(session: Session, env: Envelope) -> None:
    """unit.created/updated carry the full state: one upsert, older versions ignored."""
    d = env.data
    row = session.get(Unit, d["unit_id"], with_for_update=True)
    if row is not None and row.version >= d["version"]:
        return
    if row is None:
        row = Unit(unit_id=d["unit_id"])
        session.add(row)
    row.parent_id, row.code, row.name = d["parent_id"], d["code"], d["name"]
    row.active = bool(d.get("active", True))
    row.version = d["version"]


def _entry(session: Session, env: Envelope, entry_id: str, employee_id: str) -> Entry:
    entry = session.get(Entry, entry_id, with_for_update=True)
    if entry is None or entry.employee_id != employee_id:
        # Approval only knows entries we announced, so this is damage, not a race: fail and let
        # the message reach the dead-letter queue for an operator instead of dropping it.
        raise LookupError(f"{env.type} for unknown entry {entry_id} of employee {employee_id}")
    return entry


def _decide(session: Session, entry: Entry, verdict: domain.Settlement, status: str, version: int,
            decided_by: str, decided_at: str, reason: str | None) -> None:
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
        entry.decided_at = datetime.fromisoformat(decided_at)
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


def on_decision(session: Session, env: Envelope) -> None:
    """approved / rejected / returned from approval (domain.settle says who wins a crossing)."""
    d = env.data
    services.lock_employee(session, d["employee_id"])  # first, as every writer of entries does
    entry = _entry(session, env, d["entry_id"], d["employee_id"])
    status = DECISIONS[env.type]
    verdict = domain.settle(status, d["version"], int(d.get("submission_version", d["version"] - 1)),
                            status=entry.status, decision_version=entry.decision_version,
                            submitted_version=entry.submitted_version)
    _decide(session, entry, verdict, status, d["version"], d["decided_by"], d["decided_at"], d.get("reason"))


def on_change_accepted(session: Session, env: Envelope) -> None:
    """Approval took the employee's edit or withdrawal: no decision on an earlier version will
    come, so the earlier versions' slots are free."""
    d = env.data
    services.lock_employee(session, d["employee_id"])
    entry = _entry(session, env, d["entry_id"], d["employee_id"])
    services.release_claims(session, entry, int(d["version"]) - 1)


def _appeal_applies(entry: Entry, appeal_id: str, version: int) -> bool:
    # Versions count within one appeal; a different (later) appeal of the entry starts afresh.
    return entry.appeal_id != appeal_id or version > entry.appeal_version


def on_appeal_filed(session: Session, env: Envelope) -> None:
    """The entry shows that it is under appeal (its status stays rejected until the decision)."""
    d = env.data
    services.lock_employee(session, d["employee_id"])
    for entry_id in d["entry_ids"]:
        entry = _entry(session, env, entry_id, d["employee_id"])
        if _appeal_applies(entry, d["appeal_id"], d["version"]):
            entry.appeal_id, entry.appeal_version, entry.appeal_outcome = d["appeal_id"], d["version"], None


def on_appeal_decided(session: Session, env: Envelope) -> None:
    """The one announcement of an appeal's outcome. Overturned: the entry becomes ``overturned``
    and its minutes count, as a decision on the rejected submission. Upheld: the rejection stands."""
    d = env.data
    if d["outcome"] not in ("upheld", "overturned"):
        raise ValueError(f"unknown appeal outcome {d['outcome']!r}")
    services.lock_employee(session, d["employee_id"])
    for item in d["entries"]:
        entry = _entry(session, env, item["entry_id"], d["employee_id"])
        if _appeal_applies(entry, d["appeal_id"], d["version"]):
            entry.appeal_id, entry.appeal_version, entry.appeal_outcome = d["appeal_id"], d["version"], d["outcome"]
        if d["outcome"] == "overturned":
            verdict = domain.settle("overturned", int(item["version"]), int(item["submission_version"]),
                                    status=entry.status, decision_version=entry.decision_version,
                                    submitted_version=entry.submitted_version)
            _decide(session, entry, verdict, "overturned", int(item["version"]), d["decided_by"], d["decided_at"],
                    entry.reason)


def on_period_locked(session: Session, env: Envelope) -> None:
    d = env.data
    # A lock is final: a repeated announcement of the same month keeps the first record.
    if session.get(ClosedPeriod, (d["year"], d["month"])) is not None:
        return
    session.add(ClosedPeriod(year=d["year"], month=d["month"], locked_at=datetime.fromisoformat(d["locked_at"]),
                             locked_by=d["locked_by"]))


def on_deductions_updated(session: Session, env: Envelope) -> None:
    """BPKAD's deduction table of a year (payroll's policy): the latest policy version wins. It
    prices codes from now on — the reported deduction of days recorded afterwards and the month's
    discipline % shown, as payroll prices them at its next compute; recorded days keep the codes
    they were given."""
    d = env.data
    table = {str(code): str(Decimal(str(pct))) for code, pct in dict(d["deductions_pct"]).items()}
    row = session.get(DeductionTable, int(d["year"]), with_for_update=True)
    if row is not None and row.policy_version >= int(d["policy_version"]):
        return
    if row is None:
        row = DeductionTable(year=int(d["year"]))
        session.add(row)
    row.deductions, row.policy_version, row.received_at = table, int(d["policy_version"]), utcnow()


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
    **{name: on_decision for name in DECISIONS},
    "activity.change_accepted": on_change_accepted,
    "appeal.filed": on_appeal_filed,
    "appeal.decided": on_appeal_decided,
    "tpp.period_locked": on_period_locked,
    "tpp.deductions_updated": on_deductions_updated,
}
