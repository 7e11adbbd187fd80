"""Tables of the activity database (SQLAlchemy 2, typed)."""
from __future__ import annotations

import uuid
from datetime import date, datetime, time

from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Index, Integer, Numeric, String, Text, Time, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ekinerja_common.envelope import utcnow
from ekinerja_common.auth_store import add_auth_tables
from ekinerja_common.idempotency import add_idempotency_table
from ekinerja_common.outbox import add_messaging_tables


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    """This service's own metadata: one database per service, never shared."""


class EntryContent:
    """What an employee claims in an entry (and what a supervisor decides on)."""

    date: Mapped[date] = mapped_column(Date)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    duty_id: Mapped[str] = mapped_column(String(36))
    duty_description: Mapped[str] = mapped_column(Text)
    output_unit: Mapped[str] = mapped_column(String(50))
    norma_waktu: Mapped[int] = mapped_column(Integer)
    volume: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    credited_minutes: Mapped[int] = mapped_column(Integer)


# The columns of EntryContent, copied between an entry and its claims.
CONTENT_FIELDS = tuple(EntryContent.__annotations__)


class Entry(EntryContent, Base):
    """A daily activity entry. Duty details are copied in at submission, so a later change or
    retirement of the duty never rewrites what the employee claimed."""

    __tablename__ = "entries"
    __table_args__ = (Index("ix_entries_employee_date", "employee_id", "date"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    employee_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(12), default="submitted")
    reason: Mapped[str | None] = mapped_column(Text)
    # The approval service's version of its decision: a late, older decision must not undo a newer one.
    decision_version: Mapped[int] = mapped_column(Integer, default=0)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The version of the last activity.submitted: a decision older than it judged content the
    # employee has replaced since (see domain.settle). 0 = never announced (a draft).
    submitted_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The appeal (approval's) that last changed this entry, and its version, for late events;
    # its outcome once decided (upheld | overturned), None while it is heard.
    appeal_id: Mapped[str | None] = mapped_column(String(36))
    appeal_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    appeal_outcome: Mapped[str | None] = mapped_column(String(12))
    # An edit or withdrawal of a pending entry waits for approval's word (activity.change_accepted):
    # the supervisor may have decided the earlier version first. True while any EntryClaim is open.
    awaiting_confirmation: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # "edit" | "withdraw": the supervisor's decision arrived for the version before that change,
    # so the change never took effect (the decision stands; domain.settle).
    superseded_change: Mapped[str | None] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class EntryClaim(EntryContent, Base):
    """A version of an entry that was announced to approval and then replaced (edited) or
    withdrawn while approval might already have decided it. Until approval confirms the change
    (activity.change_accepted) or decides, the version still claims its time slot — so nobody can
    fill the slot twice — and a decision on it restores exactly this content."""

    __tablename__ = "entry_claims"
    __table_args__ = (Index("ix_entry_claims_employee_date", "employee_id", "date"),)
    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)  # the submission's version
    employee_id: Mapped[str] = mapped_column(String(36))


class EmployeeLock(Base):
    """One row per employee, locked for the length of a submission: two concurrent submissions of
    the same employee then check overlap and the daily ceiling one after the other."""

    __tablename__ = "employee_locks"
    employee_id: Mapped[str] = mapped_column(String(36), primary_key=True)


class Placement(Base):
    """Read model of identity's placements: which posts an employee holds on which dates."""

    __tablename__ = "placements"
    placement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(36), index=True)
    position_id: Mapped[str] = mapped_column(String(36))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer)


class Duty(Base):
    """Read model of organization's duties. A retirement may arrive before the publication it
    ends, so the details are optional until the publication comes."""

    __tablename__ = "duties"
    duty_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    position_id: Mapped[str] = mapped_column(String(36), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    output_unit: Mapped[str | None] = mapped_column(String(50))
    norma_waktu: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)


class ClosedPeriod(Base):
    """A month payroll has locked: no entry may be added to it any more."""

    __tablename__ = "closed_periods"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    locked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_by: Mapped[str] = mapped_column(String(100))


class Employee(Base):
    """Read model of identity's employees: attendance files name people by NIP."""

    __tablename__ = "employees"
    employee_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # Not unique: while a NIP correction travels, two records may briefly carry the same one;
    # the import refuses such a NIP rather than the consumer refusing the event.
    nip: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)


class Position(Base):
    """Read model of organization's positions: what the supervisor walk needs, and the unit
    (BKD's per-unit lists, a late-entry permission granted to a unit)."""

    __tablename__ = "positions"
    position_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(200))
    # Null for rows stored before activity kept it; the post's next event fills it.
    unit_id: Mapped[str | None] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer)


class Unit(Base):
    """Read model of organization's unit tree (unit.created/updated): a permission granted to an
    OPD covers its bidang and subbidang too."""

    __tablename__ = "units"
    unit_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    parent_id: Mapped[str | None] = mapped_column(String(36))
    code: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean)
    version: Mapped[int] = mapped_column(Integer)


class SubmissionPolicyRow(Base):
    """BKD's entry rules of one year (policy data, not settings): how many days after the
    activity date an entry is still accepted. Years without a row use domain.EntryRules's default."""

    __tablename__ = "submission_policies"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_window_days: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(100))


class SubmissionPolicyAudit(Base):
    """Every stored version of every year's entry rules (before: previous_window_days), by whom, why,
    in which request. Append-only: the database refuses UPDATE and DELETE (0005)."""

    __tablename__ = "submission_policy_audit"
    __table_args__ = (Index("ix_submission_policy_audit_year", "year", "version", unique=True),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    submission_window_days: Mapped[int] = mapped_column(Integer)
    previous_window_days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    request_id: Mapped[str | None] = mapped_column(String(100))


class LateEntryPermission(Base):
    """BKD lets one person, or everyone placed in a unit (and its sub-units), enter activity
    dates ``start_date``..``end_date`` although their submission window has passed, until
    ``valid_until``. The row is its own audit record: granted fields never change, a revocation
    only adds who/when/why."""

    __tablename__ = "late_entry_permissions"
    __table_args__ = (Index("ix_late_entry_dates", "start_date", "end_date"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    employee_id: Mapped[str | None] = mapped_column(String(36), index=True)
    unit_id: Mapped[str | None] = mapped_column(String(36), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[str] = mapped_column(String(100))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoke_reason: Mapped[str | None] = mapped_column(Text)


class Evidence(Base):
    """An evidence file's record; the bytes are in the evidence directory under ``id``.
    Belongs to an entry or to a leave record."""

    __tablename__ = "evidence"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(36))
    entry_id: Mapped[str | None] = mapped_column(String(36), index=True)
    leave_id: Mapped[str | None] = mapped_column(String(36), index=True)
    filename: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MonthSummary(Base):
    """Per employee and month, the figures of GET /me/month, kept current in the transaction of
    every change (entry, decision, attendance) so that reading them is one primary-key lookup at
    any scale. Every column is moved by increments only, so concurrent writers add up."""

    __tablename__ = "month_summaries"
    employee_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft_minutes: Mapped[int] = mapped_column(Integer, default=0)
    pending_minutes: Mapped[int] = mapped_column(Integer, default=0)
    approved_minutes: Mapped[int] = mapped_column(Integer, default=0)
    returned_minutes: Mapped[int] = mapped_column(Integer, default=0)
    rejected_minutes: Mapped[int] = mapped_column(Integer, default=0)
    attendance_days: Mapped[int] = mapped_column(Integer, default=0)
    deduction_pct: Mapped[Decimal] = mapped_column(Numeric(8, 2), default=Decimal(0))
    late_days: Mapped[int] = mapped_column(Integer, default=0)
    early_days: Mapped[int] = mapped_column(Integer, default=0)
    absent_days: Mapped[int] = mapped_column(Integer, default=0)
    excused_days: Mapped[int] = mapped_column(Integer, default=0)


class WorkCalendarRow(Base):
    """The current version of a year's work calendar (BKD's policy data; the deduction table is
    BPKAD's, ``DeductionTable``)."""

    __tablename__ = "work_calendars"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_by: Mapped[str] = mapped_column(String(100))


class DeductionTable(Base):
    """BPKAD's discipline deduction table of a year, as payroll last announced it
    (``tpp.deductions_updated``): the percent each attendance code costs. A year without a row
    uses ``ekinerja_common.discipline.default_table``, as payroll does."""

    __tablename__ = "deduction_tables"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    deductions: Mapped[dict[str, Any]] = mapped_column(JSON)  # code -> percent (decimal string)
    policy_version: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CalendarAudit(Base):
    """Every version of every year's calendar, as stored, by whom, in which request (the version
    before is the previous row). Append-only: the database refuses UPDATE and DELETE (0005)."""

    __tablename__ = "calendar_audit"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    year: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_by: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    request_id: Mapped[str | None] = mapped_column(String(100))
    __table_args__ = (Index("ix_calendar_audit_year", "year", "version", unique=True),)


class AttendanceDay(Base):
    """The current state of one employee-day: its inputs (the device's punches and code, BKD's
    leave code), the codes and deduction they give, and what was last announced to payroll.
    Each change is a new ``version``; the versions themselves are in attendance_records."""

    __tablename__ = "attendance_days"
    employee_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    check_in: Mapped[time | None] = mapped_column(Time)
    check_out: Mapped[time | None] = mapped_column(Time)
    device_code: Mapped[str | None] = mapped_column(String(10))
    leave_code: Mapped[str | None] = mapped_column(String(10))
    leave_id: Mapped[str | None] = mapped_column(String(36))
    codes: Mapped[str] = mapped_column(String(40))  # comma-separated, e.g. "TL1,PSW2"; "" = nothing
    deduction_pct: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    version: Mapped[int] = mapped_column(Integer)
    # What payroll was last told. A first record with no code and no deduction is not announced:
    # payroll reads a day it never heard of as exactly that.
    published_codes: Mapped[str] = mapped_column(String(40))
    published_deduction: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_attendance_days_date", "date"),)


class AttendanceRecord(Base):
    """History: every version of every employee-day, as it was recorded. Only ever inserted,
    so a correction never hides what was there before."""

    __tablename__ = "attendance_records"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    employee_id: Mapped[str] = mapped_column(String(36))
    date: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer)
    check_in: Mapped[time | None] = mapped_column(Time)
    check_out: Mapped[time | None] = mapped_column(Time)
    device_code: Mapped[str | None] = mapped_column(String(10))
    leave_code: Mapped[str | None] = mapped_column(String(10))
    codes: Mapped[str] = mapped_column(String(40))
    deduction_pct: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    source: Mapped[str] = mapped_column(String(10))  # file | device | leave | close | calendar
    import_id: Mapped[str | None] = mapped_column(String(36))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_attendance_records_day", "employee_id", "date", "version"),)


class AttendanceImport(Base):
    """Audit of every import and device push: who, what file, what it changed."""

    __tablename__ = "attendance_imports"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    source: Mapped[str] = mapped_column(String(10))  # file | device
    filename: Mapped[str | None] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    submitted_by: Mapped[str] = mapped_column(String(100))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    partial: Mapped[bool] = mapped_column(Boolean)
    rows: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(Integer)


class LeaveRecord(Base):
    """A leave or duty code BKD entered for an employee over a range of dates, with its evidence."""

    __tablename__ = "leave_records"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    employee_id: Mapped[str] = mapped_column(String(36), index=True)
    code: Mapped[str] = mapped_column(String(10))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    entered_by: Mapped[str] = mapped_column(String(100))
    entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled_by: Mapped[str | None] = mapped_column(String(100))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ClosedDay(Base):
    """Audit of day closings: each marked the employees without any record that day as TK."""

    __tablename__ = "closed_days"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    date: Mapped[date] = mapped_column(Date, index=True)
    closed_by: Mapped[str] = mapped_column(String(100))
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    marked: Mapped[int] = mapped_column(Integer)


class Device(Base):
    """An attendance device allowed to push records with its own key (stored hashed)."""

    __tablename__ = "attendance_devices"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    # SHA-256 of a 256-bit random key: a fast hash is enough for a secret nobody can guess.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


add_messaging_tables(Base.metadata)
add_idempotency_table(Base.metadata)
add_auth_tables(Base.metadata)  # the last good JWKS and account revocations (auth_store)
