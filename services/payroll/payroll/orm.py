"""Tables of the payroll database (SQLAlchemy 2, typed).

Read models (employees, placements, positions, activity decisions, attendance days, the work
calendar) are copies fed by other services' events; payroll never reads their databases. The rest
is BPKAD's own data.
"""
from __future__ import annotations

import os
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ekinerja_common.envelope import utcnow
from ekinerja_common.auth_store import add_auth_tables
from ekinerja_common.idempotency import add_idempotency_table
from ekinerja_common.outbox import add_messaging_tables


def new_id() -> str:
    return str(uuid.uuid4())


def new_ids(n: int) -> list[str]:
    """``n`` random (version 4) UUIDs as ``new_id`` gives them, from one read of the OS's random
    source: a run writes thousands of rows, and ``uuid4()`` one by one was a tenth of its time."""
    raw = os.urandom(16 * n).hex()
    out = []
    for k in range(0, 32 * n, 32):
        h = raw[k:k + 32]
        # The version nibble is 4 and the variant bits are 10 (RFC 4122 §4.4).
        out.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}")
    return out


class Base(DeclarativeBase):
    """This service's own metadata: one database per service, never shared."""


# --- read models -------------------------------------------------------------------------------

class Employee(Base):
    __tablename__ = "employees"
    employee_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nip: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(200))
    employee_kind: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    golongan: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)
    # For the disbursement list: taken from identity's employee events (an event without it, as
    # identity sent before it carried bank_account, keeps the stored value).
    bank_account: Mapped[str | None] = mapped_column(String(40))
    # Salary files name employees by NIP.
    __table_args__ = (Index("ix_employees_nip", "nip"),)


class Placement(Base):
    __tablename__ = "placements"
    placement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(36), index=True)
    position_id: Mapped[str] = mapped_column(String(36))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)


class Position(Base):
    __tablename__ = "positions"
    position_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    kelas_jabatan: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[str | None] = mapped_column(String(36))
    unit_id: Mapped[str] = mapped_column(String(36))
    factor: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    version: Mapped[int] = mapped_column(Integer)


class Unit(Base):
    """Read model of organization's unit.created / unit.updated: code and name for the unit recap."""

    __tablename__ = "units"
    unit_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[str | None] = mapped_column(String(36))
    active: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)


class ActivityDecision(Base):
    """The latest supervisor decision on one activity entry. ``approved`` and ``overturned`` (a
    rejection an appeal overturned) minutes count; ``rejected`` and ``returned`` do not."""

    __tablename__ = "activity_decisions"
    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(36))
    day: Mapped[date] = mapped_column(Date)
    credited_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    decided_by: Mapped[str] = mapped_column(String(36))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)
    # The month's sum reads a date range of approved rows for everyone at once; a correction re-sums
    # a locked month of the few employees whose data changed (migration 0009).
    __table_args__ = (Index("ix_activity_decisions_month", "day", "status"),
                      Index("ix_activity_decisions_employee_day", "employee_id", "day"))


class AttendanceDay(Base):
    __tablename__ = "attendance_days"
    employee_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    codes: Mapped[list[str]] = mapped_column(JSON)
    deduction_pct: Mapped[Decimal] = mapped_column(Numeric(7, 3))
    version: Mapped[int] = mapped_column(Integer)
    __table_args__ = (Index("ix_attendance_days_day", "day"),)


class AttendanceCode(Base):
    """One code of one attendance day, so that a month's days per code are counted in SQL (the
    deduction each code costs is BPKAD's policy, applied by payroll, see README "Discipline")."""

    __tablename__ = "attendance_codes"
    employee_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(20))
    __table_args__ = (Index("ix_attendance_codes_day", "day"),)


class WorkCalendarRow(Base):
    """BKD's work calendar of a year, as activity last announced it (``calendar.updated``): it
    decides the working days of the TPP target (README "The month's target"). One row per year,
    replaced by a newer version only."""

    __tablename__ = "work_calendars"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    # ISO weekdays, 1 = Monday; Monday to Friday when the event did not say.
    working_weekdays: Mapped[list[int]] = mapped_column(JSON)
    holidays: Mapped[list[str]] = mapped_column(JSON)
    collective_leave: Mapped[list[str]] = mapped_column(JSON)
    # None: the event carried no daily target; the policy's minutes_per_day applies.
    target_minutes_per_day: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(36))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# --- BPKAD's own data --------------------------------------------------------------------------

class PolicyVersion(Base):
    """Every version of a year's TPP policy is kept: a run names the version it used."""

    __tablename__ = "policies"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))


class Salary(Base):
    __tablename__ = "salaries"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    salary: Mapped[int] = mapped_column(BigInteger)
    bpjs_already: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(100))


class Sanction(Base):
    """A disciplinary sanction (PP 94/2021) cutting the TPP of every month it overlaps. Entered by
    BPKAD or BKD; revoked, never edited or deleted, so the audit trail is the table itself too."""

    __tablename__ = "sanctions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    employee_id: Mapped[str] = mapped_column(String(36), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    cut_pct: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    reference: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revoke_reason: Mapped[str | None] = mapped_column(String(1000))
    __table_args__ = (Index("ix_sanctions_dates", "start_date", "end_date"),)


class TppPeriod(Base):
    """One row per month anything happened in, there only to be locked. A compute or lock takes
    it exclusively, an event changing that month's data takes it shared: so a change is either
    seen by a compute or recorded as a DataChange after it, never lost in between. (The run row
    cannot serve: it does not exist before the first compute, and a row that does not exist
    cannot be locked.)"""

    __tablename__ = "tpp_periods"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)


class DataChange(Base):
    """A change to an employee's month data (decision, appeal, attendance, sanction) made after
    that month was computed. An open month's changes are cleared by its next compute (which sees
    them); a locked month's are claimed by the compute of a later month, which turns them into
    correction lines, and settled when that month is locked."""

    __tablename__ = "data_changes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    employee_id: Mapped[str] = mapped_column(String(36))
    day: Mapped[date | None] = mapped_column(Date)
    # The event (id and type) that made the change, or the sanction for sanctions.
    cause_id: Mapped[str] = mapped_column(String(36))
    cause_type: Mapped[str] = mapped_column(String(50))
    # What the cause is about, where its words need it: the appeal of an appeal.decided.
    cause_ref: Mapped[str | None] = mapped_column(String(36))
    # What changed, where the cause's words need it: for attendance, the day's codes before and
    # after ({"codes": [...], "previous_codes": [...]}; previous_codes null when payroll had no
    # record of the day). Null for other causes.
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_run_id: Mapped[str | None] = mapped_column(String(36), index=True)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_data_changes_period", "year", "month", "settled_at"),)


class TppRun(Base):
    __tablename__ = "tpp_runs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    year: Mapped[int] = mapped_column(Integer)
    month: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="open")
    policy_version: Mapped[int] = mapped_column(Integer)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    computed_by: Mapped[str] = mapped_column(String(100))
    # Employees placed in the month who got no line, and why (data not yet arrived by event).
    skipped: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # What BPKAD should look at before locking, e.g. attendance codes the policy does not price.
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=0)
    # The version of BKD's work calendar the last compute used; None: there was none for the year
    # and the policy's holidays and minutes applied (and every run computed before 0003).
    calendar_version: Mapped[int | None] = mapped_column(Integer)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locked_by: Mapped[str | None] = mapped_column(String(100))
    __table_args__ = (UniqueConstraint("year", "month"),)


class TppLineRow(Base):
    __tablename__ = "tpp_lines"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("tpp_runs.id"))
    employee_id: Mapped[str] = mapped_column(String(36))
    nip: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(200))
    position_id: Mapped[str] = mapped_column(String(36))
    unit_id: Mapped[str] = mapped_column(String(36))
    gross: Mapped[int] = mapped_column(BigInteger)
    pph: Mapped[int] = mapped_column(BigInteger)
    bpjs: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[int] = mapped_column(BigInteger)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Copied when computed, so a locked month's disbursement list never changes afterwards.
    bank_account: Mapped[str | None] = mapped_column(String(40))
    __table_args__ = (UniqueConstraint("run_id", "employee_id"),)


class TppCorrection(Base):
    """A correction (rapel) paid in the run's month for an earlier, locked month: the difference
    between that month's line recomputed with today's data and what was paid for it (its locked
    line and earlier corrections). Amounts may be negative (an overpayment recovered). A run's
    corrections are replaced by each compute; locking the run issues them for good."""

    __tablename__ = "tpp_corrections"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    run_id: Mapped[str] = mapped_column(ForeignKey("tpp_runs.id"), index=True)
    employee_id: Mapped[str] = mapped_column(String(36))
    for_year: Mapped[int] = mapped_column(Integer)
    for_month: Mapped[int] = mapped_column(Integer)
    nip: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[str] = mapped_column(String(36))
    bank_account: Mapped[str | None] = mapped_column(String(40))
    gross: Mapped[int] = mapped_column(BigInteger)
    pph: Mapped[int] = mapped_column(BigInteger)
    bpjs: Mapped[int] = mapped_column(BigInteger)
    net: Mapped[int] = mapped_column(BigInteger)
    # {"event_id", "event_type", "changes": [...]}: what changed the locked month.
    cause: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The locked figures, earlier corrections and the recomputed line's inputs.
    basis: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("run_id", "employee_id", "for_year", "for_month"),
                      Index("ix_tpp_corrections_for", "for_year", "for_month", "employee_id"))


class AuditEntry(Base):
    """Who changed what, when, in which request, and the subject before and after. Append-only:
    the database refuses UPDATE and DELETE (migration 0006)."""

    __tablename__ = "audit_log"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


add_messaging_tables(Base.metadata)
add_idempotency_table(Base.metadata)
add_auth_tables(Base.metadata)  # the last good JWKS and account revocations (auth_store)
