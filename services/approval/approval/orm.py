"""Tables of the approval database (SQLAlchemy 2, typed).

Employees, positions and placements are read models of other services' events; none carries a
foreign key, because events of different aggregates arrive in any order."""
from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, Text, Time,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ekinerja_common.envelope import utcnow
from ekinerja_common.auth_store import add_auth_tables
from ekinerja_common.idempotency import add_idempotency_table
from ekinerja_common.outbox import add_messaging_tables


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    """This service's own metadata: one database per service, never shared."""


class Employee(Base):
    """Read model of identity's employees: the name and NIP shown in the queue."""

    __tablename__ = "employees"
    employee_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nip: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(200))
    employee_kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    golongan: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)


class Position(Base):
    """Read model of organization's positions: the parent links the supervisor walk follows."""

    __tablename__ = "positions"
    position_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    kelas_jabatan: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[str | None] = mapped_column(String(36), index=True)
    unit_id: Mapped[str] = mapped_column(String(36))
    factor: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    version: Mapped[int] = mapped_column(Integer)


class Placement(Base):
    """Read model of identity's placements (effective-dated; end_date inclusive, None = open)."""

    __tablename__ = "placements"
    __table_args__ = (
        Index("ix_placements_position_dates", "position_id", "start_date"),
        Index("ix_placements_employee_dates", "employee_id", "start_date"),
    )
    placement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(36))
    position_id: Mapped[str] = mapped_column(String(36))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)


class ValidationItem(Base):
    """An activity entry awaiting (or having had) its supervisor's decision.

    ``version`` continues the entry's version from activity: a decision increments it, and a
    resubmission after a return arrives with a higher one. The detail columns are empty only for
    a withdrawal that arrived before its submission (kept so the late submission is ignored)."""

    __tablename__ = "validation_items"
    __table_args__ = (
        Index("ix_items_status_employee_date", "status", "employee_id", "date"),
        Index("ix_items_status_date", "status", "date"),
        # A supervisor's queue page: their pending items, person by person, in date order.
        # The minutes ride along so that the queue's totals are counted from the index alone.
        Index("ix_items_supervisor_queue", "supervisor_id", "status", "employee_id", "date", "start_time", "entry_id",
              postgresql_include=["credited_minutes"]),
    )
    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(36))
    date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_time: Mapped[time | None] = mapped_column(Time)
    duty_id: Mapped[str | None] = mapped_column(String(36))
    duty_description: Mapped[str | None] = mapped_column(Text)
    volume: Mapped[int | None] = mapped_column(Integer)
    output_unit: Mapped[str | None] = mapped_column(String(50))
    credited_minutes: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # Who supervises the employee on the item's date, while the item is pending (the queue's read
    # model, kept by approval.queue_model; meaningless once decided or withdrawn).
    supervisor_id: Mapped[str | None] = mapped_column(String(36))



class QueueCount(Base):
    """The queue counted per (holder, employee, month): what waits in ``holder_id``'s queue of one
    employee's entries in one month (by the entry's date) — entries, credited minutes, escalated
    entries, the oldest date. A holder is the item's stored supervisor, or whoever the deadline
    escalated it to when that is someone else (so no item counts twice in one queue).

    Kept by ``approval.queue_model``, which recounts every (employee, month) a transaction touched
    from the items themselves before it commits (exact by construction, not by deltas), so that a
    queue page reads its totals and people from a few rows instead of a GROUP BY over the whole
    queue (3,300 items for a head of bidang of 50 at month end). Zero rows are not kept."""

    __tablename__ = "queue_counts"
    __table_args__ = (
        # The recount replaces the rows of one employee's month, whoever holds them.
        Index("ix_queue_counts_employee_month", "employee_id", "year", "month"),
    )
    holder_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entries: Mapped[int] = mapped_column(Integer)
    minutes: Mapped[int] = mapped_column(Integer)
    escalated: Mapped[int] = mapped_column(Integer)
    oldest: Mapped[date] = mapped_column(Date)

class Decision(Base):
    """Audit of one supervisor decision. Rows are only ever inserted, never edited: the database
    refuses UPDATE and DELETE (migration 0003)."""

    __tablename__ = "decisions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    entry_id: Mapped[str] = mapped_column(String(36), index=True)
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(36), index=True)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    request_id: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)


class LockedPeriod(Base):
    """Months BPKAD locked (tpp.period_locked): no decision may change them any more."""

    __tablename__ = "locked_periods"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    locked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_by: Mapped[str] = mapped_column(String(100))



# -- counters kept with the decisions (never aggregated on read) ----------------------------------

class MonthlyMinutes(Base):
    """Approved (and appeal-overturned) credited minutes of one employee in one month, by the
    month of the entry's date. Incremented in the transaction of the decision that counts them,
    so the queue shows month-to-date minutes without summing the month's entries."""

    __tablename__ = "monthly_minutes"
    employee_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    approved_minutes: Mapped[int] = mapped_column(Integer, default=0)
    approved_entries: Mapped[int] = mapped_column(Integer, default=0)


class DeciderMonth(Base):
    """How one decider decided the entries of one month (by the entry's date): the rejection rate
    that sends an appeal straight to the board is read from here."""

    __tablename__ = "decider_months"
    decided_by: Mapped[str] = mapped_column(String(36), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    month: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    approved: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)


# -- policy (DOMAIN.md: every number is policy data, versioned by year) --------------------------

class ValidationPolicy(Base):
    """BKD's deadlines and appeal rules for one year. A year without a row uses the defaults of
    :data:`approval.domain.DEFAULT_POLICY` until admin_bkd stores one."""

    __tablename__ = "validation_policies"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    validation_deadline_day: Mapped[int] = mapped_column(Integer)
    appeal_window_days: Mapped[int] = mapped_column(Integer)
    first_level_days: Mapped[int] = mapped_column(Integer)
    board_rejection_rate_pct: Mapped[int] = mapped_column(Integer)
    board_min_decisions: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(100))  # the admin's account id
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PolicyChange(Base):
    """Audit of every policy change: the whole document as stored (the one before is the previous
    version's row), by whom, when, in which request. Append-only at the database (0003)."""

    __tablename__ = "validation_policy_changes"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)  # JSON
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    request_id: Mapped[str | None] = mapped_column(String(100))


# -- deadlines -----------------------------------------------------------------------------------

class Escalation(Base):
    """An entry still pending after its validation deadline, handed up to the late supervisor's own
    supervisor. The unique (entry_id, level) key is what makes the escalation job idempotent and
    safe to run concurrently: a second run's insert of the same row does nothing.

    ``late_supervisor_id`` (who missed the deadline) feeds the late-validation report;
    ``escalated_to`` is resolved when the job runs (None when nobody sits above the late
    supervisor: the lateness is still counted, the entry stays in the supervisor's queue)."""

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("entry_id", "level", name="uq_escalations_entry_level"),
        Index("ix_escalations_late_month", "year", "month", "late_supervisor_id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    entry_id: Mapped[str] = mapped_column(String(36))
    level: Mapped[int] = mapped_column(Integer)
    employee_id: Mapped[str] = mapped_column(String(36))
    entry_date: Mapped[date] = mapped_column(Date)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    late_supervisor_id: Mapped[str] = mapped_column(String(36))
    escalated_to: Mapped[str | None] = mapped_column(String(36), index=True)
    deadline: Mapped[date] = mapped_column(Date)
    escalated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# -- appeals (keberatan) and the appeals board (majelis banding) --------------------------------

class Appeal(Base):
    """An employee's appeal against one supervisor's rejections. ``level`` is who hears it now
    (first_level: the rejecting supervisor's own supervisor; board: the majelis banding);
    ``status`` open until the level hearing it decides. ``version`` grows with every change of
    level or outcome and is the version of appeal.decided."""

    __tablename__ = "appeals"
    __table_args__ = (
        Index("ix_appeals_level_status_due", "level", "status", "first_level_due"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    employee_id: Mapped[str] = mapped_column(String(36), index=True)
    original_decider_id: Mapped[str] = mapped_column(String(36), index=True)
    first_level_decider_id: Mapped[str | None] = mapped_column(String(36), index=True)
    level: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str | None] = mapped_column(String(12))
    reasons: Mapped[str] = mapped_column(Text)
    month: Mapped[str | None] = mapped_column(String(7))  # YYYY-MM when filed for a month's rejections
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    filed_on: Mapped[date] = mapped_column(Date)  # WIB date, for the windows and deadlines
    first_level_due: Mapped[date | None] = mapped_column(Date)
    board_reason: Mapped[str | None] = mapped_column(String(20))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(36))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_on: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)


class AppealEntry(Base):
    """The rejected entries an appeal concerns, with the rejection as it was when filed. An entry
    is appealed at most once (unique entry_id): the board is the second level of that appeal, not
    a new one."""

    __tablename__ = "appeal_entries"
    appeal_id: Mapped[str] = mapped_column(String(36), ForeignKey("appeals.id"), primary_key=True)
    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True, unique=True)
    entry_date: Mapped[date] = mapped_column(Date)
    rejected_by: Mapped[str] = mapped_column(String(36))
    rejected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rejection_reason: Mapped[str | None] = mapped_column(Text)


class AppealDecision(Base):
    """One decision on an appeal (first level or board). Insert-only."""

    __tablename__ = "appeal_decisions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    appeal_id: Mapped[str] = mapped_column(String(36), ForeignKey("appeals.id"), index=True)
    level: Mapped[str] = mapped_column(String(12))
    outcome: Mapped[str] = mapped_column(String(12))
    reasoning: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(36))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)


class AppealComment(Base):
    """The original supervisor's side of the story, shown to whoever decides. Insert-only."""

    __tablename__ = "appeal_comments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    appeal_id: Mapped[str] = mapped_column(String(36), ForeignKey("appeals.id"), index=True)
    author_id: Mapped[str] = mapped_column(String(36))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AppealEvidence(Base):
    """An evidence file of an appeal; the bytes live in the evidence directory under ``id``."""

    __tablename__ = "appeal_evidence"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    appeal_id: Mapped[str] = mapped_column(String(36), ForeignKey("appeals.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(36))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AppealTrail(Base):
    """Every step of an appeal (filed, commented, evidence_added, escalated, decided), in order.
    Append-only: no endpoint edits or deletes it, and a trigger refuses UPDATE and DELETE (migration
    0002 on PostgreSQL, 0003 on SQLite too)."""

    __tablename__ = "appeal_trail"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    appeal_id: Mapped[str] = mapped_column(String(36), ForeignKey("appeals.id"), index=True)
    step: Mapped[str] = mapped_column(String(20))
    level: Mapped[str] = mapped_column(String(12))
    actor_id: Mapped[str | None] = mapped_column(String(36))  # None: the scheduled job
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    details: Mapped[str] = mapped_column(Text)  # JSON
    request_id: Mapped[str | None] = mapped_column(String(100))


class BoardMember(Base):
    """An appointment to the appeals board, effective from ``from_date`` to ``to_date``
    (inclusive; None = open). Identity grants the ``majelis`` role; this table says who sits, and
    when. Removing a member ends the appointment; the row stays as history."""

    __tablename__ = "board_members"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    employee_id: Mapped[str] = mapped_column(String(36), index=True)
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)
    appointed_by: Mapped[str] = mapped_column(String(100))  # account ids: an admin may have no employee record
    appointed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_by: Mapped[str | None] = mapped_column(String(100))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class BoardAudit(Base):
    """Audit of appointments and removals. Insert-only."""

    __tablename__ = "board_audit"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    member_id: Mapped[str] = mapped_column(String(36), index=True)
    action: Mapped[str] = mapped_column(String(12))  # appointed | removed
    employee_id: Mapped[str] = mapped_column(String(36))
    from_date: Mapped[date] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)
    actor_id: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    request_id: Mapped[str | None] = mapped_column(String(100))


add_messaging_tables(Base.metadata)
add_idempotency_table(Base.metadata)
add_auth_tables(Base.metadata)  # the last good JWKS and account revocations (auth_store)
