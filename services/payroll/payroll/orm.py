"""Tables of the payroll database (SQLAlchemy 2, typed).

Read models (employees, placements, positions, activity decisions, attendance days) are copies fed
by other services' events; payroll never reads their databases. The rest is BPKAD's own data.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ekinerja_common.envelope import utcnow
from ekinerja_common.outbox import add_messaging_tables


def new_id() -> str:
    return str(uuid.uuid4())


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


class ActivityDecision(Base):
    """The latest supervisor decision on one activity entry; only ``approved`` minutes count."""

    __tablename__ = "activity_decisions"
    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    employee_id: Mapped[str] = mapped_column(String(36))
    day: Mapped[date] = mapped_column(Date)
    credited_minutes: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    decided_by: Mapped[str] = mapped_column(String(36))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)
    # The month's sum reads a date range of approved rows for everyone at once.
    __table_args__ = (Index("ix_activity_decisions_month", "day", "status"),)


class AttendanceDay(Base):
    __tablename__ = "attendance_days"
    employee_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    codes: Mapped[list[str]] = mapped_column(JSON)
    deduction_pct: Mapped[Decimal] = mapped_column(Numeric(7, 3))
    version: Mapped[int] = mapped_column(Integer)
    __table_args__ = (Index("ix_attendance_days_day", "day"),)


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
    version: Mapped[int] = mapped_column(Integer, default=0)
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
    __table_args__ = (UniqueConstraint("run_id", "employee_id"),)


class AuditEntry(Base):
    """Who changed what and when; rows are only ever added."""

    __tablename__ = "audit_log"
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(100))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


add_messaging_tables(Base.metadata)
